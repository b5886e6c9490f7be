"""logreal: numerics that do not underflow, overflow or divide by zero where the
mathematics says they need not.

>>> import logreal as lr

See ``../API.md`` (the public contract) and the docs for the whole surface.
"""

from ._logreal import LogReal, exp, log, sqrt
from ._norms import lognorm, norm
from ._products import cumprod, leave_one_out, prod_grad
from ._reduce import concat, cumsum, dot, matmul, mean, prod, stack, sum, where
from ._special import log1mexp, log1pexp, logaddexp, logcumsumexp, logsubexp, logsumexp

__version__ = "0.1.0"

__all__ = [
    "LogReal",
    "concat",
    "cumprod",
    "cumsum",
    "dot",
    "exp",
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
    "where",
]
