"""Decimal text for LogReal values, also far outside float range.

A value inside float range prints as that float (``-3.0``, ``1e-300``).  One
outside it prints as the shortest ``d.ddde±N`` (nine digits at most) whose
natural log, read back at high precision, rounds to the stored log-magnitude:
``1.5e-40000``.
"""

from __future__ import annotations

import decimal
import math

import numpy as np

_CTX = decimal.Context(prec=40, Emax=10**12, Emin=-(10**12))
_LN10 = _CTX.ln(decimal.Decimal(10))


def _decimal_exp(logabs: float) -> decimal.Decimal:
    return _CTX.exp(decimal.Decimal(logabs))


def _shortest(logabs: float) -> str:
    """Fewest significant digits (at most 9) whose log rounds back to ``logabs``."""
    value = _decimal_exp(logabs)
    for digits in range(1, 10):
        text = f"{value:.{digits - 1}e}"
        mantissa, exponent = text.split("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        back = _CTX.ln(decimal.Decimal(text))
        if float(back) == logabs:
            break
    return (
        f"{mantissa}e{int(exponent):+d}" if int(exponent) < 0 else f"{mantissa}e+{int(exponent)}"
    )


def format_value(sign: float, logabs: float, dtype: np.dtype) -> str:
    """One value as text: the float where it fits in ``dtype``, else decimal."""
    if math.isnan(sign) or math.isnan(logabs):
        return "nan"
    if sign == 0:
        return "0.0"
    if logabs == math.inf:
        return "inf" if sign > 0 else "-inf"
    with np.errstate(all="ignore"):
        as_float = dtype.type(sign) * np.exp(dtype.type(logabs))
        round_trips = np.log(np.abs(as_float)) == dtype.type(logabs)
    if np.isfinite(as_float) and as_float != 0:
        normal = abs(as_float) >= np.finfo(dtype).smallest_normal
        if round_trips or normal:
            text = repr(float(as_float))
            if len(text) > 13:  # 3.0000000000000004 (a rounded log) prints as 3.0
                text = f"{float(as_float):.9g}"
                text = text if any(c in text for c in ".e") else text + ".0"
            return text
    text = _shortest(float(logabs))
    return text if sign > 0 else "-" + text


def format_array(sign: np.ndarray, logabs: np.ndarray, dtype: np.dtype) -> str:
    """NumPy-style nested text of the values (long arrays summarised)."""
    threshold = np.get_printoptions()["threshold"]
    edge = np.get_printoptions()["edgeitems"]
    flat_sign = np.ravel(sign)
    flat_log = np.ravel(logabs)
    text = np.empty(flat_sign.shape, dtype=object)  # display only, never arithmetic
    summarise = flat_sign.size > threshold
    for i in range(flat_sign.size):
        if summarise and not _near_edge(i, sign.shape, edge):
            text[i] = ""
            continue
        text[i] = format_value(float(flat_sign[i]), float(flat_log[i]), dtype)
    if sign.ndim == 0:
        return str(text[0])
    has_negative = any(t.startswith("-") for t in text)
    if has_negative:
        text = np.array([t if t.startswith("-") else " " + t for t in text], dtype=object)
    return np.array2string(
        text.reshape(sign.shape),
        separator=", ",
        formatter={"all": str},
        threshold=threshold,
        edgeitems=edge,
        prefix="LogReal(",
    )


def _near_edge(flat_index: int, shape: tuple[int, ...], edge: int) -> bool:
    index = np.unravel_index(flat_index, shape)
    return all(i < edge or i >= n - edge for i, n in zip(index, shape, strict=True))
