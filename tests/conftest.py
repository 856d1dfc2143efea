"""Shared fixtures: one test body runs on every backend.

NumPy always; the strict CuPy stand-in (``tests/strict_cupy.py``) always, so the device
path is checked on every CI run; real CuPy on a machine with a GPU (``-m gpu``).
"""

import numpy as np
import pytest
import strict_cupy

import minigan
from minigan import backend

GPU = backend.cupy_available()


GPU_SKIP_REASON = "gpu: needs CuPy and a CUDA device (pip install -e '.[cuda]' on a GPU machine)"


def pytest_collection_modifyitems(config, items):
    # The CuPy namespace check reads the stand-in's record of the whole run: it goes last.
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_cupy_namespace.py"))
    if GPU:
        return
    skip = pytest.mark.skip(reason=GPU_SKIP_REASON)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    return f"minigan GPU tests: {'run (CuPy sees a CUDA device)' if GPU else 'skipped (no CuPy or no CUDA device)'}"


@pytest.fixture(params=["numpy", "cupy-standin", pytest.param("cupy", marks=pytest.mark.gpu)])
def xp_backend(request):
    """Run the test on each backend: yields the Backend, restores NumPy after."""
    if request.param == "cupy-standin":
        with backend.device_module(strict_cupy):
            b = minigan.use("cupy")
            minigan.manual_seed(0)
            yield b
    else:
        b = minigan.use(request.param)
        minigan.manual_seed(0)
        yield b
    minigan.use("numpy")


@pytest.fixture
def standin():
    """The strict CuPy stand-in playing CuPy, its counters zeroed; yields the module."""
    with backend.device_module(strict_cupy):
        strict_cupy.record.reset()
        yield strict_cupy
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


def pytest_terminal_summary(terminalreporter):
    """One line for the GPU skips instead of one per test, and any other skip spelled out."""
    skipped = terminalreporter.stats.get("skipped", [])
    gpu = [r for r in skipped if GPU_SKIP_REASON in str(r.longrepr)]
    other = [r for r in skipped if r not in gpu]
    if gpu:
        terminalreporter.write_line(f"{len(gpu)} GPU tests skipped: no CuPy or no CUDA device on this machine.")
    for r in other:
        terminalreporter.write_line(f"SKIPPED {r.nodeid}: {r.longrepr[-1] if isinstance(r.longrepr, tuple) else ''}")
