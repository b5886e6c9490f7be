"""The vectorised signed-add kernel against mpmath: random and adversarial pairs,
special values, float64 and float32, the threaded path bit for bit like the serial one.

The oracle and the bound are ``tests/test_accuracy.py``'s: the exact sum of the
stored values at 300 bits, and ``log_tol`` (2 ulp of the result's logabs, plus
an ulp of the larger log where the result's log cancels against it).  A float32
kernel computes in float64 and rounds once, so it is held to 1 ulp of float32
plus the same float64 cancellation allowance.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import logreal as lr
from logreal import _numba
from test_accuracy import FAMILIES, Tally, U, exact_sum, log_tol, random_pairs

pytestmark = [
    pytest.mark.skipif(not _numba.available(), reason="needs the compiled kernels"),
    pytest.mark.kernels_only,  # run once: see tests/conftest.py
]

LN2 = math.log(2.0)
SPECIAL_LOGS = [
    -math.inf,
    -1000.0,
    -745.2,
    -1.0,
    -5e-324,
    0.0,
    5e-324,
    1e-300,
    LN2,
    709.8,
    1e300,
    math.inf,
    math.nan,
]


def adversarial(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """(sx, lx, sy, ly) where the kernel's pieces meet their limits."""
    sx, sy = rng.choice([-1.0, 1.0], (2, n))
    lx = rng.normal(0.0, 20.0, n)
    kind = rng.integers(0, 8, n)
    k = rng.integers(-4, 5, n).astype(float)
    d = np.select(
        [
            kind == 0,  # Mächler's switch, within ulps of ln 2
            kind == 1,  # a few ulps apart, and equal
            kind == 2,  # where e**d leaves 1 + e**d unchanged
            kind == 3,  # where e**d is subnormal, and where it underflows
            kind == 4,  # where log1p(e**d) and e**d part
        ],
        [
            LN2 + k * np.spacing(LN2),
            k * np.spacing(np.abs(lx)),
            37.0 + rng.uniform(-1.0, 1.0, n),
            rng.uniform(700.0, 760.0, n),
            rng.uniform(0.0, 3.0, n),
        ],
        default=rng.uniform(0.0, 50.0, n),
    )
    ly = lx - d
    tiny = kind == 5  # logs themselves subnormal or tiny, of either sign
    lx = np.where(tiny, rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-323, -290, n), lx)
    ly = np.where(tiny, rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-323, -290, n), ly)
    # results near +-1: logabs cancels between the larger log and log w
    one = kind == 6
    lx = np.where(one, rng.uniform(-2.0, 2.0, n), lx)
    with np.errstate(divide="ignore"):
        ly = np.where(one, np.log(np.abs(1.0 - sx * np.exp(lx))), ly)
    sy = np.where(one, np.where(sx * np.exp(lx) > 1.0, -1.0, 1.0), sy)
    huge = kind == 7
    lx = np.where(huge, rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(5, 300, n), lx)
    ly = np.where(huge, lx - np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 1, n)), ly)
    swap = rng.random(n) < 0.5
    return sx, np.where(swap, ly, lx), sy, np.where(swap, lx, ly)


def special_pairs() -> tuple[np.ndarray, ...]:
    values = [(s, v) for s in (-1.0, 1.0) for v in SPECIAL_LOGS]
    values = [(s if v != -math.inf else 0.0, v) for s, v in values]  # the zero
    values = [(math.nan if math.isnan(v) else s, v) for s, v in values]
    pairs = [(a, b) for a in values for b in values]
    sx, lx = np.array([p[0] for p in pairs]).T
    sy, ly = np.array([p[1] for p in pairs]).T
    return sx, lx, sy, ly


def check(op: str, sx, lx, sy, ly, dtype=np.float64, name="") -> Tally:
    x = lr.LogReal.from_log(np.asarray(lx, dtype), np.asarray(sx, dtype))
    y = lr.LogReal.from_log(np.asarray(ly, dtype), np.asarray(sy, dtype))
    got = x + y if op == "add" else x - y
    assert got.dtype == dtype
    tally = Tally(f"{op}{name}", dtype)
    sgn = 1.0 if op == "add" else -1.0
    for i in range(len(got.logabs)):
        a, b = float(x.logabs[i]), float(y.logabs[i])
        ex = exact_sum([float(x.sign[i]), sgn * float(y.sign[i])], [a, b])
        tol = log_tol(ex)
        if dtype is np.float32 and mpmath.isfinite(ex.L):
            b_ = max(abs(ex.m), abs(ex.L - ex.m))
            tol = float(np.spacing(np.float32(abs(float(ex.L))))) + (
                U * float(b_) if abs(ex.L) < b_ else 0.0
            )
        tally.check((a, b), got.sign[i], got.logabs[i], ex, tol)
    return tally


@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("family", [*FAMILIES, "adversarial", "special"])
def test_kernel_against_mpmath(op, family, rng, record_property):
    if family == "adversarial":
        pairs = adversarial(rng, 2000)
    elif family == "special":
        pairs = special_pairs()
    else:
        pairs = random_pairs(family, rng, 600)
    check(op, *pairs, name=f"[{family}]").report(record_property)


@pytest.mark.parametrize("family", ["mixed", "adversarial", "special"])
def test_float32_kernel_against_mpmath(family, rng, record_property):
    if family == "adversarial":
        sx, lx, sy, ly = adversarial(rng, 2000)
    elif family == "special":
        sx, lx, sy, ly = special_pairs()
    else:
        sx, lx, sy, ly = random_pairs(family, rng, 1000)
    with np.errstate(over="ignore"):  # logs beyond float32's range become inf
        lx, ly = lx.astype(np.float32), ly.astype(np.float32)
    for op in ("add", "sub"):
        check(op, sx, lx, sy, ly, np.float32, f"[f32 {family}]").report(record_property)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threaded_path_matches_serial_bit_for_bit(dtype, rng):
    from logreal._numba import special

    n = 3 * special.PARALLEL_MIN + 5
    parts = [adversarial(rng, n // 2), random_pairs("mixed", rng, n - n // 2)]
    with np.errstate(invalid="ignore", over="ignore"):
        sx, lx, sy, ly = (np.concatenate(p).astype(dtype) for p in zip(*parts, strict=True))
        x, y = lr.LogReal.from_log(lx, sx), lr.LogReal.from_log(ly, sy)
    step = special.PARALLEL_MIN // 2
    for op in (np.add, np.subtract):
        whole = op(x, y)
        pieces = [op(x[i : i + step], y[i : i + step]) for i in range(0, n, step)]
        for got, want in (
            (whole.sign, [p.sign for p in pieces]),
            (whole.logabs, [p.logabs for p in pieces]),
        ):
            np.testing.assert_array_equal(got.view(np.uint8), np.concatenate(want).view(np.uint8))
