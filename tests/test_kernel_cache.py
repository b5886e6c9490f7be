"""The kernel switch and the on-disk cache, each checked in a fresh interpreter.

- an installed Numba that fails to import: one warning, right answers (portable);
- a kernel helper edited in another file is never run from a stale cache;
- a cache that cannot be written: kernels run uncached, silently;
- the kernel modules import nothing from outside ``logreal._numba`` (the cache key
  hashes that package only);
- every module of the package imports with each optional dependency blocked;
- small inputs take the portable path and never import Numba; the threshold can
  be moved with ``LOGREAL_KERNEL_MIN_SIZE``.
"""

import ast
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

import logreal

pytestmark = pytest.mark.kernels_only  # run once: see tests/conftest.py

PACKAGE = pathlib.Path(logreal.__file__).resolve().parent
OPTIONAL = ("scipy", "matplotlib", "torch", "dask", "distributed", "jax", "hmmlearn")


def _python(code: str, env: dict[str, str] | None = None, path: str | None = None) -> str:
    """Run ``code`` in a new interpreter; return its stdout (stderr on failure).

    The kernels run at every size (``LOGREAL_KERNEL_MIN_SIZE=0``) unless ``env``
    says otherwise, so the small arrays below reach them.
    """
    full = {**os.environ, "LOGREAL_KERNEL_MIN_SIZE": "0", **(env or {})}
    full.pop("LOGREAL_KERNELS", None)
    if path is not None:
        full["PYTHONPATH"] = path
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_numba_that_fails_to_import_gives_one_warning_and_right_answers(tmp_path):
    fake = tmp_path / "fake" / "numba"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('numba needs a newer NumPy')\n")
    out = _python(
        """
        import math, warnings
        import numpy as np
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            import logreal as lr
            x = lr.LogReal(np.array([2.0, 3.0]))
            prod = float((x * x)[1])
            total = float(lr.sum(x - x * 2.0))
            lse = float(lr.logsumexp(np.log([1.0, 2.0, 5.0])))
            norm = float(lr.norm(np.array([3e300, 4e300])))
        assert abs(prod - 9.0) < 1e-14 and abs(total + 5.0) < 1e-14, (prod, total)
        assert abs(lse - math.log(8.0)) < 1e-15 and norm == 5e300, (lse, norm)
        from logreal import _numba
        assert not _numba.available()
        texts = [str(w.message) for w in caught]
        print(len(texts)); print(texts[0] if texts else "")
        """,
        path=f"{tmp_path / 'fake'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    )
    count, message = out.splitlines()[:2]
    assert count == "1"
    assert "numba needs a newer NumPy" in message and "LOGREAL_KERNELS=portable" in message


_ADD = """
    import numpy as np, logreal as lr
    from logreal._numba import special, _jit
    assert _jit.CACHED
    x = lr.LogReal.from_log(np.array([1.0, -3.0]), np.array([1.0, 1.0]))
    y = lr.LogReal.from_log(np.array([0.5, -3.5]), np.array([1.0, -1.0]))
    z = x + y
    hits = sum(special._binary_serial.stats.cache_hits.values())
    print(repr(z.logabs.tolist()).replace(" ", ""), hits)
"""


def test_an_edited_helper_in_another_file_is_not_run_from_a_stale_cache(tmp_path):
    copy = tmp_path / "src" / "logreal"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {"LOGREAL_CACHE_DIR": str(tmp_path / "cache")}
    first = _python(_ADD, env, str(tmp_path / "src")).split()
    again = _python(_ADD, env, str(tmp_path / "src")).split()
    assert again[:-1] == first[:-1]
    assert int(again[-1]) > 0  # the second process loaded the kernel from the cache
    # signed_add lives in special.py and calls exact.difference: change the helper.
    exact = copy / "_numba" / "exact.py"
    source = exact.read_text()
    edited = source.replace("    d = a - b\n", "    d = a - b - 1.0\n", 1)
    assert edited != source
    exact.write_text(edited)
    after = _python(_ADD, env, str(tmp_path / "src")).split()
    assert after[:-1] != first[:-1]  # the edit took effect
    assert int(after[-1]) == 0  # compiled afresh, not loaded


def test_a_cache_that_cannot_be_written_runs_uncached_without_a_warning():
    out = _python(
        """
        import warnings
        warnings.simplefilter("error")
        import numpy as np, logreal as lr
        from logreal._numba import _jit
        x = lr.LogReal(np.array([2.0, 3.0]))
        print(float((x * x)[1]), _jit.CACHED)
        """,
        {"LOGREAL_CACHE_DIR": "/proc/logreal-cannot-write-here"},
    )
    value, cached = out.split()
    assert abs(float(value) - 9.0) < 1e-14 and cached == "False"


def _imports(path: pathlib.Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(0, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_kernel_modules_import_nothing_outside_their_package():
    allowed = {"__future__", "collections", "functools", "hashlib", "llvmlite", "math"}
    allowed |= {"numba", "numpy", "os", "pathlib", "sys", "tempfile", "typing"}
    for path in sorted((PACKAGE / "_numba").glob("*.py")):
        if path.name == "__init__.py":  # the switch: plain Python, not compiled
            continue
        for level, name in _imports(path):
            if level == 0:
                assert name.split(".")[0] in allowed, (path.name, name)
            else:
                assert level == 1, f"{path.name} imports from outside logreal._numba: {name}"


@pytest.mark.parametrize("kernels", ["portable", "compiled"])
def test_every_module_imports_with_optional_dependencies_blocked(kernels):
    out = _python(
        f"""
        import importlib, pkgutil, sys
        for name in {OPTIONAL!r}:
            sys.modules[name] = None  # importing it raises ImportError
        import logreal
        names = [m.name for m in pkgutil.walk_packages(logreal.__path__, "logreal.")]
        for name in names:
            if not name.endswith("__main__"):
                importlib.import_module(name)
        print(len(names))
        """,
        {"LOGREAL_KERNELS": "portable"} if kernels == "portable" else None,
    )
    assert int(out) > 20


_FIRST_CALLS = """
    import sys
    import numpy as np, logreal as lr
    from logreal.cli.bench_startup import first_calls
    exec(first_calls(N))
    print("numba" in sys.modules)
"""


@pytest.mark.parametrize(
    ("n", "threshold", "imported"),
    [
        (10, "", False),
        (4095, "", False),
        (4096, "", True),
        (10, "0", True),
        (10**4, "10001", False),
    ],
)
def test_small_inputs_take_the_portable_path_without_importing_numba(n, threshold, imported):
    env = {"LOGREAL_KERNEL_MIN_SIZE": threshold}
    out = _python(_FIRST_CALLS.replace("N", str(n)), env)
    assert out.split() == [str(imported)]


def test_elementwise_threshold_counts_the_broadcast_result():
    import numpy as np

    from logreal import _numba

    column, row = np.ones((64, 1)), np.ones((1, 64))
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(_numba._state, "min_size", _numba.MIN_SIZE)
        assert _numba.kernel("signed_add", np, column, column, row, row) is not None
        assert _numba.kernel("signed_add", np, column, column, column, column) is None
        assert _numba.kernel("compensated_sum", np, np.ones(_numba.MIN_SIZE)) is not None
        assert _numba.kernel("compensated_sum", np, np.ones(_numba.MIN_SIZE - 1)) is None


def test_a_threshold_that_is_not_a_number_is_a_clear_error():
    full = {**os.environ, "LOGREAL_KERNEL_MIN_SIZE": "lots"}
    out = subprocess.run(
        [sys.executable, "-c", "import logreal"], capture_output=True, text=True, env=full
    )
    assert out.returncode != 0
    assert "LOGREAL_KERNEL_MIN_SIZE must be a whole number of elements, not 'lots'" in out.stderr
