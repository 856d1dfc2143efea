"""Shared fixtures: one test body runs on every backend (NumPy always, CuPy on a GPU)."""

import numpy as np
import pytest

import minigan
from minigan import backend

GPU = backend.cupy_available()


def pytest_collection_modifyitems(config, items):
    if GPU:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device (pip install -e '.[cuda]' on a GPU machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=["numpy", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp_backend(request):
    """Run the test on each backend: yields the Backend, restores NumPy after."""
    b = minigan.use(request.param)
    minigan.manual_seed(0)
    yield b
    minigan.use("numpy")


@pytest.fixture(autouse=True)
def _numpy_default():
    minigan.use("numpy")
    minigan.manual_seed(0)
    yield
    minigan.use("numpy")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
