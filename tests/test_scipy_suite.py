"""SciPy's own logsumexp test suite, run against ``lr.logsumexp`` on every backend.

The installed SciPy wheel ships ``scipy/special/tests/test_logsumexp.py``; the
plugin ``tests/scipy_suite/logreal_scipy_plugin.py`` swaps the name the test
module imported for ``lr.logsumexp`` and skips, each with its reason, what is
not logreal's contract (complex input, other functions, the float32 rule where
API.md overrides SciPy).  It runs in a subprocess with ``SCIPY_ARRAY_API=1``,
so SciPy's conftest parametrises ``xp`` over numpy, array_api_strict, torch,
jax.numpy and dask.array.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
import scipy

HERE = pathlib.Path(__file__).resolve().parent
SUITE = pathlib.Path(scipy.__file__).parent / "special" / "tests" / "test_logsumexp.py"


@pytest.mark.slow
def test_scipy_logsumexp_suite_passes_on_every_backend(tmp_path: pathlib.Path) -> None:
    assert SUITE.exists(), f"the SciPy wheel ships no {SUITE}"
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")  # not our pyproject's options
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    paths = [str(HERE / "scipy_suite"), str(HERE.parent / "src"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    cmd = [
        sys.executable, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider",
        "-p", "logreal_scipy_plugin", "-c", str(ini), f"--rootdir={SUITE.parents[2]}",
        str(SUITE),
    ]  # fmt: skip
    run = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    passed = [
        line for line in run.stdout.splitlines() if line.endswith("PASSED") or " PASSED" in line
    ]
    for backend in ("numpy", "array_api_strict", "torch", "jax.numpy", "dask.array"):
        ran = [line for line in passed if f"[{backend}" in line]
        assert len(ran) >= 20, f"SciPy's suite ran {len(ran)} logsumexp tests on {backend}"
