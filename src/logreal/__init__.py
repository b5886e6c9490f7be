"""logreal: numerics that do not underflow, overflow or divide by zero where the
mathematics says they need not.

>>> import logreal as lr

The README and ``docs/`` describe the whole surface: ``LogReal`` arrays, the
stable special functions, products and their gradients, norms, and ``grad``.
"""

from ._autodiff import grad, value_and_grad
from ._logreal import LogReal

# The public functions, each wrapped once so that lr.grad can trace it.
from ._rules import (
    concat,
    cumprod,
    cumsum,
    dot,
    einsum,
    exp,
    leave_one_out,
    log,
    log1mexp,
    log1pexp,
    logaddexp,
    logcumsumexp,
    lognorm,
    logsubexp,
    logsumexp,
    matmul,
    mean,
    norm,
    prod,
    prod_grad,
    sqrt,
    stack,
    sum,
    where,
)

__version__ = "0.1.0"

__all__ = [
    "LogReal",
    "concat",
    "cumprod",
    "cumsum",
    "dot",
    "einsum",
    "exp",
    "grad",
    "leave_one_out",
    "log",
    "log1mexp",
    "log1pexp",
    "logaddexp",
    "logcumsumexp",
    "lognorm",
    "logsubexp",
    "logsumexp",
    "matmul",
    "mean",
    "norm",
    "prod",
    "prod_grad",
    "sqrt",
    "stack",
    "sum",
    "value_and_grad",
    "where",
]
