"""Numba, imported here and only here, and its on-disk cache keyed on our sources.

Every kernel module decorates its entry points with :func:`kernel` and its
helpers with :func:`helper`.  Kernels compile lazily, once per argument type,
on first use, and are cached on disk so a new process loads them instead of
compiling again (about 5 s saved).

Numba's own cache checks only the source file of the cached function, so an
edited helper in a sibling module would go on running from a stale cache.  The
locator below therefore files the kernels of this package in a directory keyed
on a hash of *every* module of ``logreal._numba`` and of the Numba, llvmlite,
NumPy and Python versions, and reports that hash as the source stamp: any edit
of any kernel source starts from a clean cache.  The kernels import nothing
from outside this package (a test checks), so the hash covers all the code
they run.

The cache lives in ``$LOGREAL_CACHE_DIR``, else ``$XDG_CACHE_HOME/logreal``
(``~/.cache/logreal``).  When that cannot be written the kernels run uncached,
without a warning.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pathlib
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import llvmlite
import numba
import numpy as np
from numba.core import caching

__all__ = ["CACHED", "CACHE_DIR", "helper", "inline", "kernel"]

_PACKAGE = pathlib.Path(__file__).resolve().parent


def _source_key() -> str:
    """Hash of this package's sources and of the versions that compile them."""
    h = hashlib.sha256()
    for version in (numba.__version__, llvmlite.__version__, np.__version__, sys.version):
        h.update(version.encode())
    for path in sorted(_PACKAGE.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def _cache_root() -> pathlib.Path:
    explicit = os.environ.get("LOGREAL_CACHE_DIR")
    if explicit:
        return pathlib.Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "logreal"


def _writable(path: pathlib.Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


SOURCE_KEY = _source_key()
CACHE_DIR = _cache_root() / f"kernels-{SOURCE_KEY}"
# A user's own locator list (NUMBA_CACHE_LOCATOR_CLASSES) would bypass ours and
# bring back the stale-helper problem: then run uncached.
CACHED = not getattr(numba.config, "CACHE_LOCATOR_CLASSES", "") and _writable(CACHE_DIR)


class _SourceKeyedLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Files this package's kernels under :data:`CACHE_DIR`; ignores all others."""

    def __init__(self, py_func: Any, py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno

    def get_cache_path(self) -> str:
        return str(CACHE_DIR)

    def get_source_stamp(self) -> str:
        return SOURCE_KEY

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if pathlib.Path(py_file).resolve().parent != _PACKAGE:
            return None
        return super().from_function(py_func, py_file)


if CACHED and _SourceKeyedLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, _SourceKeyedLocator)

# No fastmath anywhere: every operation rounds as NumPy's does.  error_model
# "numpy" lets loops with divisions vectorise (no ZeroDivisionError checks).
kernel: Callable[..., Any] = functools.partial(
    numba.njit, nogil=True, error_model="numpy", cache=CACHED
)
helper: Callable[..., Any] = functools.partial(numba.njit, error_model="numpy")
# Per-element functions of vectorised loops: inlined by Numba (LLVM would keep
# them as calls, which do not vectorise).
inline: Callable[..., Any] = functools.partial(numba.njit, inline="always", error_model="numpy")
