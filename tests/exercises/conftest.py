"""Setup shared by the exercise tests: the NumPy backend and seed 0 for every test.

Under the classroom grader, ``MINIGAN_CLASSROOM_PACKAGE`` names the copy of minigan
being graded; the run stops at once if Python imported another one (an installed
minigan shadowing the copy would grade the wrong code).
"""

import os
from pathlib import Path

import numpy as np
import pytest

import minigan


def pytest_configure(config):
    expected = os.environ.get("MINIGAN_CLASSROOM_PACKAGE")
    if expected and Path(minigan.__file__).resolve().parent != Path(expected).resolve():
        raise pytest.UsageError(
            f"The grader built minigan in {expected} but Python imported {Path(minigan.__file__).parent}: "
            "uninstall that minigan or run the grader from its own checkout."
        )


@pytest.fixture(autouse=True)
def _numpy_and_seed():
    minigan.use("numpy")
    minigan.manual_seed(0)
    yield
    minigan.use("numpy")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
