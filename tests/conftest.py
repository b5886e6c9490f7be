import os

import numpy as np
import pytest
from hypothesis import settings

# Slow-marked tests run with reduced sizes unless LOGREAL_FULL=1.
FULL = os.environ.get("LOGREAL_FULL") == "1"

# Hypothesis profiles: "ci" and "dev" for everyday runs; "nightly" (selected
# with LOGREAL_HYPOTHESIS_PROFILE=nightly) runs many more examples, also in
# the differential tests (tests/test_differential*.py).  CI draws the same
# examples every run (derandomized), so a red CI is reproducible; the dev and
# nightly profiles explore.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile("nightly", max_examples=2000, deadline=None)
_PROFILE = os.environ.get("LOGREAL_HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI") else "dev"
)
settings.load_profile(_PROFILE)

# Examples per differential test: few by default (the module stays under a
# minute on two cores), many at night.
DIFFERENTIAL_EXAMPLES = 1000 if _PROFILE == "nightly" else 40


@pytest.fixture
def rng():
    return np.random.default_rng(20261130)


@pytest.fixture(autouse=True, params=["kernels", "default"])
def kernel_sizes(request, monkeypatch):
    """Every test runs twice: with the compiled kernels at every size, and as
    users get it by default.

    By default inputs under ``logreal._numba.MIN_SIZE`` elements take the
    portable path (so a process with only small arrays never imports Numba), so
    the tests' small, adversarial arrays meet the portable code; the
    ``kernels`` run lowers the threshold to 0 so every kernel meets the same
    cases.  Tests of the threshold itself set it as they need.
    """
    from logreal import _numba

    if request.param == "kernels":
        monkeypatch.setitem(_numba._state, "min_size", 0)
    else:
        monkeypatch.setitem(_numba._state, "min_size", _numba.MIN_SIZE)
    return request.param


def pytest_collection_modifyitems(config, items):
    """Run ``kernels_only`` tests once: their ``default`` twin is deselected."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("kernels_only")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("kernel_sizes") == "default"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in gone]
