"""Decimal text for LogReal values, also far outside float range.

A value inside float range prints as that float (``-3.0``, ``1e-300``).  One
outside it prints as the shortest ``d.ddde±N`` (nine digits at most) whose
natural log, read back at high precision, rounds to the stored log-magnitude:
``1.5e-40000``.
"""

from __future__ import annotations

import decimal
import math
import sys
from typing import Any

import array_api_compat
import numpy as np


def to_host(a: Any) -> np.ndarray:
    """A copy of ``a``'s values as a NumPy array, for display only.

    Each backend through its own door, never ``np.asarray`` on a foreign
    array: a PyTorch tensor is detached (``requires_grad``) and moved to the
    CPU, a JAX array fetched with ``jax.device_get``, a CuPy array with
    ``.get()``, a Dask array computed; anything else (array-api-strict on any
    of its devices) through DLPack onto the CPU.
    """
    if isinstance(a, np.ndarray | np.generic):
        return np.asarray(a)
    if array_api_compat.is_torch_array(a):
        return a.detach().cpu().numpy()  # type: ignore[no-any-return]
    if array_api_compat.is_jax_array(a):
        return np.asarray(sys.modules["jax"].device_get(a))
    if array_api_compat.is_cupy_array(a):
        return a.get()  # type: ignore[no-any-return]
    if array_api_compat.is_dask_array(a):
        return to_host(a.compute())
    return np.from_dlpack(a, device="cpu", copy=True)


def _context(logabs: float) -> decimal.Context:
    """Enough digits that ``logabs / ln 10`` keeps 40 after the decimal point."""
    digits = 0 if logabs == 0 else max(0, int(math.log10(abs(logabs))) + 1)
    return decimal.Context(prec=45 + digits, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _split(logabs: float) -> tuple[decimal.Decimal, int, decimal.Context]:
    """``e**logabs = mantissa * 10**exponent`` with ``1 <= mantissa < 10``, no overflow.

    The float ``logabs`` is an exact binary number, so ``Decimal(logabs)`` is
    exact; the exponent is split off before anything is exponentiated.
    """
    ctx = _context(logabs)
    ln10 = ctx.ln(decimal.Decimal(10))
    t = ctx.divide(decimal.Decimal(logabs), ln10)
    exponent = int(t.to_integral_value(rounding=decimal.ROUND_FLOOR))
    frac = ctx.subtract(t, decimal.Decimal(exponent))
    short = decimal.Context(prec=40)
    mantissa = short.exp(short.multiply(frac, short.ln(decimal.Decimal(10))))
    if mantissa >= 10:  # frac rounded up to 1
        mantissa, exponent = short.divide(mantissa, decimal.Decimal(10)), exponent + 1
    return mantissa, exponent, ctx


def _shortest(logabs: float) -> str:
    """Fewest significant digits (at most 9) whose log rounds back to ``logabs``."""
    mantissa, exponent, ctx = _split(logabs)
    ln10 = ctx.ln(decimal.Decimal(10))
    for digits in range(1, 10):
        text = f"{mantissa:.{digits - 1}f}"
        if decimal.Decimal(text) >= 10:  # 9.99 rounded to 10.0
            text, exp = f"{decimal.Decimal(1):.{digits - 1}f}", exponent + 1
        else:
            exp = exponent
        back = ctx.add(ctx.ln(decimal.Decimal(text)), ctx.multiply(decimal.Decimal(exp), ln10))
        if float(back) == logabs:
            break
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text}e{exp:+d}"


def format_scalar(sign: float, logabs: float, spec: str) -> str:
    """One value under a format spec (``.3f``, ``.2e``, ``g``...), also beyond float range.

    Inside float range it is the float's own formatting; outside, a 40-digit
    decimal of the stored value formats the same way.
    """
    if math.isnan(sign) or math.isnan(logabs) or sign == 0 or logabs == math.inf:
        value = math.nan if math.isnan(sign) or math.isnan(logabs) else sign * math.exp(logabs)
        return format(value, spec)
    if -708.0 < logabs < 709.0:
        return format(sign * math.exp(logabs), spec)
    mantissa, exponent, _ = _split(logabs)
    mantissa = decimal.Context(prec=17).plus(mantissa)  # a float's worth of digits
    return format(mantissa.scaleb(exponent).copy_sign(decimal.Decimal(sign)), spec)


def format_value(sign: float, logabs: float, dtype: np.dtype) -> str:
    """One value as text: the float where it fits in ``dtype``, else decimal."""
    if math.isnan(sign) or math.isnan(logabs):
        return "nan"
    if sign == 0:
        return "0.0"
    if logabs == math.inf:
        return "inf" if sign > 0 else "-inf"
    with np.errstate(over="ignore", divide="ignore"):  # a value beyond float range
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
