"""A pytest plugin: SciPy's own logsumexp tests, run against ``lr.logsumexp``.

Load it with ``-p logreal_scipy_plugin`` on SciPy's installed
``scipy/special/tests/test_logsumexp.py`` with ``SCIPY_ARRAY_API=1``
(tests/test_scipy_suite.py does).  SciPy's conftest then parametrises its
``xp`` fixture over every installed backend (numpy, array_api_strict, torch,
jax.numpy, dask.array).  Before each test, the name ``logsumexp`` that the
test module imported is replaced by ``lr.logsumexp``.

What is not run, and why (``SKIPS`` below, each with its reason):

- complex input: logreal works on real numbers (API.md section 2);
- tests of other functions (``softmax``, ``log_softmax``, SciPy's private
  ``_wrap_radians``);
- where API.md overrides SciPy: float32 with integer weights stays float32
  (SciPy's test expects float64 on NumPy, array-api-strict and Dask).

Known failures run as strict xfails (``XFAIL``), each naming its cause.

SciPy wraps its own ``logsumexp`` in ``jax.jit`` on JAX; ``lr.logsumexp``
is eager there (its data-dependent re-summation of cancelling top terms
reads values), so it is tagged ``jax_jit=False``.  On Dask it keeps SciPy's
tag: building the result must not compute (``allow_dask_compute=False``).
"""

from __future__ import annotations

import pytest

import logreal as lr

COMPLEX = "complex input: logreal works on real numbers (API.md section 2)"
OTHER = "not logsumexp: softmax, log_softmax and SciPy's private helpers are not logreal's"
FLOAT32 = (
    "API.md section 6 overrides SciPy here: float32 with integer weights stays float32 "
    "(SciPy expects float64 on NumPy, array-api-strict and Dask)"
)
# Known failures, run as strict xfails (a fix turns them into failures to update).
XFAIL: dict[str, str] = {}


def _reason(item: pytest.Item) -> str | None:
    if "TestLogSumExp" not in item.nodeid:
        return OTHER
    params = getattr(getattr(item, "callspec", None), "params", {})
    values = [v for k, v in params.items() if k != "xp"]
    if (
        "complex" in item.name
        or "gh21709" in item.name
        or any(isinstance(v, complex) or "complex" in str(v) for v in values)
    ):
        return COMPLEX
    backend = item.name.split("[", 1)[1].split("-")[0] if "[" in item.name else ""
    dtypes = [str(params.get(k, "")) for k in ("dtype_a", "dtype_b")]
    ints = any(d.startswith("int") for d in dtypes)
    if ints and "float32" in dtypes and backend in ("numpy", "array_api_strict", "dask.array"):
        return FLOAT32
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        reason = _reason(item)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
        elif item.name in XFAIL:
            item.add_marker(pytest.mark.xfail(reason=XFAIL[item.name], strict=True))


@pytest.fixture(autouse=True)
def _logreal_logsumexp(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    from scipy._lib.array_api_extra.testing import lazy_xp_function

    def logsumexp(*args, **kwargs):  # type: ignore[no-untyped-def]
        return lr.logsumexp(*args, **kwargs)

    lazy_xp_function(logsumexp, allow_dask_compute=False, jax_jit=False)
    monkeypatch.setattr(request.module, "logsumexp", logsumexp)
