"""NumPy and SciPy conventions and Python protocols: the right value or the documented error.

Oracles: exact integers and fractions, NumPy's own behaviour where the
contract names it (API.md sections 1, 2 and 4), and mpmath from stored values.
"""

import ast
import copy
import math
import pathlib
import pickle
import re

import mpmath
import numpy as np
import pytest

import logreal as lr

from oracle import ulp_error

SRC = pathlib.Path(lr.__file__).parent
INF = math.inf


# -- repr far outside float range --------------------------------------------------


@pytest.mark.parametrize("logabs", [2.3e12, 3e12, -3e12, 1e300, -1e300, 1.7976931348623157e308])
def test_repr_beyond_decimal_context_reads_back(logabs):
    x = lr.LogReal.from_log([logabs, logabs], [1, -1])
    text = repr(x)
    numbers = re.findall(r"(-?)(\d(?:\.\d+)?)e([+-]\d+)", text)
    assert len(numbers) == 2 and not text.count("0e-"), text
    mpmath.mp.prec = 1200  # enough for the exponent's digits
    try:
        for _, mantissa, exponent in numbers:
            back = mpmath.log(mpmath.mpf(mantissa)) + int(exponent) * mpmath.log(10)
            assert float(back) == logabs
        assert [s for s, _, _ in numbers] == ["", "-"]
    finally:
        mpmath.mp.prec = 300


def test_format_spec_on_a_0d_logreal():
    assert f"{lr.LogReal(2.0):.3f}" == "2.000"
    assert f"{lr.LogReal(-1e-5):.2e}" == f"{-1e-5:.2e}"
    mantissa, exponent = f"{lr.exp(2000.0):.3e}".split("e")
    assert exponent == "+868" and mantissa == "3.881"  # e**2000 = 3.88118...e868
    assert f"{lr.LogReal(0.0):g}" == "0" and f"{lr.LogReal(np.nan):f}" == "nan"
    with pytest.raises(TypeError, match="format"):
        f"{lr.LogReal([1.0, 2.0]):.3f}"


# -- construction from Python ints of any size ----------------------------------------


@pytest.mark.parametrize("n", [2**64, -(2**64), 2**63, 10**400, -(10**400), 3**1000])
def test_logreal_of_python_ints_beyond_int64(n):
    want = mpmath.log(abs(n))
    for x in (lr.LogReal(n), lr.LogReal([n, 1])[0], lr.LogReal(1.0) * n):
        assert float(x.sign) == (1 if n > 0 else -1)
        assert ulp_error(float(x.logabs), want) <= 1


def test_real_functions_read_big_ints_as_rounded_floats():
    assert lr.logsumexp([2**64, 0]) == float(2**64)  # exp(0) is lost beside e**(2**64)
    assert lr.logsumexp([10**400, 0]) == INF  # beyond float range: +inf, as IEEE rounds
    with pytest.raises(TypeError, match="complex"):
        lr.LogReal([1j])


# -- integer reductions in float64 -----------------------------------------------------


def test_integer_and_bool_reductions_do_not_wrap():
    assert lr.prod(np.array([2**40, 2**40])) == 2.0**80
    assert lr.sum([2**62] * 2) == 2.0**63
    assert lr.sum(np.array([True, True, True])) == 3.0
    np.testing.assert_array_equal(lr.cumsum(np.array([2**62, 2**62])), [2.0**62, 2.0**63])
    assert lr.prod(np.array([2**40, 2**40])).dtype == np.float64


# -- shapes and NumPy dispatch -------------------------------------------------------------


@pytest.mark.parametrize("order", ["C", "F"])
def test_np_reshape_honours_order(order):
    a = np.arange(-6.0, 6.0).reshape(3, 4)
    x = lr.LogReal(a)
    for got, shape in (
        (np.reshape(x, (2, 6), order=order), (2, 6)),
        (x.reshape(4, 3, order=order), (4, 3)),
    ):
        np.testing.assert_array_equal(got.sign, np.reshape(x.sign, shape, order=order))
        np.testing.assert_array_equal(got.logabs, np.reshape(x.logabs, shape, order=order))
    with pytest.raises(ValueError, match="order"):
        x.reshape(12, order="K")


def test_reshape_takes_numpy_integers():
    x = lr.LogReal(np.arange(6.0))
    assert x.reshape(np.int64(6)).shape == (6,)
    assert x.reshape((np.int64(2), np.int32(3))).shape == (2, 3)


@pytest.mark.parametrize(
    ("sa", "sb"), [((2, 3, 4), (4,)), ((4,), (2, 4, 3)), ((2, 3, 4), (5, 4, 2)), ((3,), (3,))]
)
def test_dot_of_nd_with_1d_matches_numpy(sa, sb, rng):
    a = rng.integers(-4, 5, size=sa).astype(float)  # small integers: every sum is exact
    b = rng.integers(-4, 5, size=sb).astype(float)
    got = lr.dot(lr.LogReal(a), lr.LogReal(b))
    want = np.dot(a, b)
    assert got.shape == np.shape(want)
    np.testing.assert_array_equal(np.round(got.to_real(), 9), want)


def test_matmul_operator_without_importing_the_reductions_first():
    code = (
        "import numpy as np, sys\n"
        "from logreal._logreal import LogReal\n"
        "x = LogReal(np.ones((2, 2)))\n"
        "print(float((x @ x).to_real()[0, 0]))\n"
    )
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=None
    )
    assert out.stdout.strip() == "2.0"


def test_no_module_fills_another_modules_table():
    """Behaviour is visible where it is defined: no import-time registration elsewhere."""
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level == 1
            for alias in node.names
        }
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            for t in targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
                    assert t.value.id not in imported, f"{path.name}: {ast.unparse(t)}"
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                fn = node.value.func
                owner = fn.value if isinstance(fn, ast.Attribute) else fn
                while isinstance(owner, ast.Call | ast.Attribute):
                    owner = owner.func if isinstance(owner, ast.Call) else owner.value
                name = owner.id if isinstance(owner, ast.Name) else ""
                # defvjp (and defvjp_all, one maker for every argument) is the
                # engine's documented way to give a primitive its adjoint rule
                # (HIPS autograd's form, STYLE.md)
                allowed = {"defvjp", "defvjp_all"}
                assert name not in imported - allowed, f"{path.name}: {ast.unparse(node)}"


def test_no_blanket_silencing_of_floating_point_warnings():
    # Array code silences, with np.errstate, only the operation whose special
    # value it intends; the compiled kernels raise no NumPy warnings at all.
    # (The demo silences its naive float methods as a whole: they fail on purpose.)
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        assert "quiet(" not in text, path.name
        if "cli" not in path.parts:
            assert 'errstate(all="ignore")' not in text, path.name


# -- copies and pickles ------------------------------------------------------------------


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy])
def test_copy_is_independent_of_the_original(copier):
    x = lr.LogReal(np.array([1.0, -2.0, 3.0]))
    y = copier(x)
    y[0] = 5.0
    assert x[0] == lr.LogReal(1.0) and y[0] == lr.LogReal(5.0)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_every_protocol(protocol):
    x = lr.LogReal.from_log([0.0, 1e5, -np.inf, np.nan], [1, -1, 1, 1])
    y = pickle.loads(pickle.dumps(x, protocol=protocol))
    np.testing.assert_array_equal(y.sign, x.sign)
    np.testing.assert_array_equal(y.logabs, x.logabs)
    z = pickle.loads(pickle.dumps(lr.LogReal(np.float32(2.0)), protocol=protocol))
    assert z.dtype == np.float32 and z.ndim == 0


# -- exponents and orders as Python ints beyond float range ------------------------------


def test_power_with_python_ints_beyond_float_range():
    x = lr.LogReal([0.0, 1.0, 2.0, 0.5, -1.0, -2.0])
    got = x ** (10**400)  # even
    np.testing.assert_array_equal(got.to_real(), [0.0, 1.0, INF, 0.0, 1.0, INF])
    odd = x ** (10**400 + 1)
    np.testing.assert_array_equal(odd.to_real(), [0.0, 1.0, INF, 0.0, -1.0, -INF])
    # 2**60 + 1 is odd although float(2**60 + 1) is even
    assert float((lr.LogReal(-2.0) ** (2**60 + 1)).sign) == -1.0
    assert float((lr.LogReal(-2.0) ** (2**60)).sign) == 1.0
    assert ulp_error(float((lr.LogReal(-2.0) ** (2**60 + 1)).logabs), 2**60 * mpmath.log(2)) <= 1


def test_norm_orders_none_and_huge_ints():
    x = np.array([3.0, -4.0, 1e-300])
    assert lr.norm(x, None) == np.linalg.norm(x, None) == lr.norm(x)
    assert lr.norm(x, 10**400) == 4.0 == lr.norm(x, INF)
    assert lr.lognorm(x, -(10**400)) == math.log(1e-300)


@pytest.mark.parametrize("p", ["fro", "test", True, False])
def test_bad_vector_order_is_a_value_error_as_in_numpy(p):
    if isinstance(p, str):
        with pytest.raises(ValueError):
            np.linalg.norm(np.ones(3), p)
    with pytest.raises(ValueError):
        lr.norm(np.ones(3), p)
    with pytest.raises(ValueError):
        lr.lognorm(lr.LogReal(np.ones(3)), p)


# -- an axis out of range is numpy.exceptions.AxisError everywhere -----------------------

AXIS_CALLS = {
    "sum": lambda a, ax: lr.sum(lr.LogReal(a), axis=ax),
    "sum_real": lambda a, ax: lr.sum(a, axis=ax),
    "prod": lambda a, ax: lr.prod(lr.LogReal(a), axis=ax),
    "mean": lambda a, ax: lr.mean(lr.LogReal(a), axis=ax),
    "cumsum": lambda a, ax: lr.cumsum(lr.LogReal(a), axis=ax),
    "cumprod": lambda a, ax: lr.cumprod(a, axis=ax),
    "leave_one_out": lambda a, ax: lr.leave_one_out(a, axis=ax),
    "logsumexp": lambda a, ax: lr.logsumexp(a, axis=ax),
    "logcumsumexp": lambda a, ax: lr.logcumsumexp(a, axis=ax),
    "norm": lambda a, ax: lr.norm(a, axis=ax),
    "lognorm": lambda a, ax: lr.lognorm(lr.LogReal(a), axis=ax),
    "concat": lambda a, ax: lr.concat([lr.LogReal(a), lr.LogReal(a)], axis=ax),
    "stack": lambda a, ax: lr.stack([lr.LogReal(a), lr.LogReal(a)], axis=2 * ax),
}


@pytest.mark.parametrize("name", sorted(AXIS_CALLS))
@pytest.mark.parametrize("axis", [2, -3])
def test_axis_out_of_range_is_axis_error(name, axis):
    import scipy.special

    with pytest.raises(np.exceptions.AxisError):
        scipy.special.logsumexp(np.ones((2, 3)), axis=axis)  # the convention named
    with pytest.raises(np.exceptions.AxisError):
        AXIS_CALLS[name](np.ones((2, 3)), axis)
