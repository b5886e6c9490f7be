"""High-precision oracles shared by the tests.

Every reference is computed with mpmath at 300 bits from the exact binary
values that are stored (a float64 is an exact dyadic rational; a LogReal's
stored (sign, logabs) is taken as exact), then compared in ulps.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

mpmath.mp.prec = 300

__all__ = ["exact_value", "mp", "ulp_error", "value_logabs"]

mp = mpmath.mp


def exact_value(sign: float, logabs: float) -> mpmath.mpf:
    """The exact real number a stored (sign, logabs) pair denotes."""
    if sign == 0:
        return mpmath.mpf(0)
    return mpmath.mpf(sign) * mpmath.exp(mpmath.mpf(logabs))


def value_logabs(v: mpmath.mpf) -> tuple[int, mpmath.mpf]:
    """(sign, log|v|) of an exact value (log|0| = -inf)."""
    if v == 0:
        return 0, mpmath.mpf("-inf")
    return (1 if v > 0 else -1), mpmath.log(abs(v))


def ulp_error(got: float, exact: mpmath.mpf, dtype: type = np.float64) -> float:
    """|got - exact| in ulps of ``exact`` rounded to ``dtype`` (inf if the kinds differ)."""
    got = float(got)
    if mpmath.isnan(exact):
        return 0.0 if math.isnan(got) else math.inf
    if mpmath.isinf(exact) or math.isinf(got) or math.isnan(got):
        return 0.0 if got == exact else math.inf
    ref = dtype(float(exact))
    if ref == 0:
        spacing = float(np.finfo(dtype).smallest_subnormal)
    elif dtype is np.float64:
        spacing = math.ulp(float(ref))  # also at DBL_MAX, where np.spacing overflows
    else:
        with np.errstate(over="ignore"):
            spacing = float(np.spacing(np.abs(ref)))
    return float(abs(mpmath.mpf(got) - exact) / spacing)
