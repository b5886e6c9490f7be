import os

import numpy as np
import pytest
from hypothesis import settings

# Slow-marked tests run with reduced sizes unless LOGREAL_FULL=1.
FULL = os.environ.get("LOGREAL_FULL") == "1"

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def rng():
    return np.random.default_rng(20261130)
