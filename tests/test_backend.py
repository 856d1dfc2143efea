"""Tests of minigan.backend: choosing a backend (use, current, MINIGAN_BACKEND), the one-sentence
error when CuPy or a GPU is missing, the array deciding its module, refusing to mix host and
device arrays, seeding, and NumPy/CuPy parity of a small network."""

import re
import types

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan import functional as F

# --------------------------------------------------------------------------- use / current


def test_use_numpy_and_current():
    b = minigan.use("numpy")
    assert isinstance(b, backend.Backend)
    assert b.name == "numpy" and b.xp is np
    assert backend.current() is b and minigan.current() is b
    assert minigan.use("NumPy") is b  # names are case-insensitive
    assert repr(b) == "Backend('numpy')"


def test_backend_helpers_on_numpy():
    b = minigan.use("numpy")
    a = b.asarray([1, 2], dtype=np.float32)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    np.testing.assert_array_equal(b.to_numpy(a), [1.0, 2.0])
    assert b.synchronize() is None  # a no-op on the CPU


@pytest.mark.parametrize("value, expected", [("numpy", "numpy"), ("NUMPY", "numpy"), ("", "numpy")])
def test_minigan_backend_variable_is_respected(monkeypatch, value, expected):
    monkeypatch.setattr(backend, "_current", None)
    monkeypatch.setenv("MINIGAN_BACKEND", value)
    assert backend.current().name == expected


def test_without_the_variable_numpy_is_the_default(monkeypatch):
    monkeypatch.setattr(backend, "_current", None)
    monkeypatch.delenv("MINIGAN_BACKEND", raising=False)
    assert backend.current().name == "numpy"


def test_an_unknown_backend_in_the_variable_is_refused(monkeypatch):
    monkeypatch.setattr(backend, "_current", None)
    monkeypatch.setenv("MINIGAN_BACKEND", "tensorflow")
    with pytest.raises(backend.BackendError, match="'tensorflow'.*'numpy' or 'cupy'"):
        backend.current()


def test_use_overrides_the_variable(monkeypatch):
    monkeypatch.setattr(backend, "_current", None)
    monkeypatch.setenv("MINIGAN_BACKEND", "cupy")
    assert minigan.use("numpy").name == "numpy"
    assert backend.current().name == "numpy"  # use() wins; the variable is read only when nothing was chosen


def test_use_an_unknown_backend_raises():
    with pytest.raises(minigan.BackendError, match="Unknown backend 'tensorflow': choose 'numpy' or 'cupy'"):
        minigan.use("tensorflow")
    assert backend.current().name == "numpy"  # the failed call changed nothing


def _one_sentence(message):
    """No line breaks, ends with a full stop, and no second sentence after it."""
    return "\n" not in message and message.endswith(".") and not re.search(r"[.!?]\s+[A-Z]", message)


def test_use_cupy_without_cupy_says_what_to_install():
    with backend.device_module(None), pytest.raises(minigan.BackendError) as info:  # as if CuPy were not installed
        assert not backend.cupy_available()
        minigan.use("cupy")
    message = str(info.value)
    assert "not installed" in message
    assert "cupy-cuda12x" in message and "[cuda]" in message
    assert _one_sentence(message), message
    assert backend.current().name == "numpy"


def test_use_cupy_without_a_gpu_says_so():
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.SimpleNamespace(
        ndarray=type("ndarray", (), {}),
        cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_device)),
    )
    with backend.device_module(fake), pytest.raises(minigan.BackendError) as info:  # CuPy imports, no device
        assert not backend.cupy_available()
        minigan.use("cupy")
    message = str(info.value)
    assert "needs a CUDA GPU" in message and "cupy-cuda12x" in message
    assert _one_sentence(message), message
    assert "cudaErrorNoDevice" not in message  # never CuPy's own traceback text


# --------------------------------------------------------------------------- which array module


def test_get_array_module_on_numpy_arrays_scalars_and_none():
    assert backend.get_array_module(np.zeros(2)) is np
    assert backend.get_array_module(np.zeros(2), np.float32(1.0), 3.0, None) is np
    assert backend.get_array_module() is np


class _FakeDeviceArray:
    """Stands for a CuPy array on a machine without one."""


def test_mixing_host_and_device_arrays_is_refused_simulated():
    fake = types.SimpleNamespace(ndarray=_FakeDeviceArray)
    with backend.device_module(fake):
        _mixing_is_refused(fake)


def _mixing_is_refused(fake):
    assert backend.get_array_module(_FakeDeviceArray()) is fake
    assert backend.get_array_module(_FakeDeviceArray(), 2.0, None) is fake
    with pytest.raises(backend.BackendError, match="NumPy \\(CPU\\) array and a CuPy \\(GPU\\) array"):
        backend.get_array_module(np.zeros(2), _FakeDeviceArray())
    # Ops ask get_array_module, so a Tensor op on mixed arrays fails with the same message.
    with pytest.raises(backend.BackendError, match="move both to one backend"):
        minigan.Tensor(np.ones(2)) + minigan.Tensor(_FakeDeviceArray())


@pytest.mark.gpu
def test_mixing_numpy_and_cupy_is_refused():
    import cupy

    with pytest.raises(backend.BackendError, match="move both to one backend"):
        backend.get_array_module(np.zeros(2), cupy.zeros(2))
    with pytest.raises(backend.BackendError):
        minigan.tensor(np.zeros(2)) + minigan.Tensor(cupy.zeros(2))


@pytest.mark.gpu
def test_cupy_backend_basics():
    import cupy

    b = minigan.use("cupy")
    assert b.name == "cupy" and b.xp is cupy and backend.cupy_available()
    a = b.asarray(np.arange(3.0), dtype=np.float32)
    assert isinstance(a, cupy.ndarray) and backend.get_array_module(a) is cupy
    host = backend.to_numpy(a)
    assert isinstance(host, np.ndarray)
    np.testing.assert_array_equal(host, [0.0, 1.0, 2.0])
    b.synchronize()
    x = minigan.randn(2, 3)
    assert isinstance(x.data, cupy.ndarray) and isinstance(x.numpy(), np.ndarray)


# --------------------------------------------------------------------------- seeding and to_numpy


def test_manual_seed_gives_the_same_draws():
    minigan.manual_seed(42)
    a = minigan.randn(3, 4)
    minigan.manual_seed(42)
    b = minigan.randn(3, 4)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = minigan.randn(3, 4)  # the generator moved on
    assert not np.array_equal(b.numpy(), c.numpy())
    minigan.manual_seed(43)
    assert not np.array_equal(minigan.randn(3, 4).numpy(), a.numpy())
    assert a.dtype == np.float32


def test_draws_equal_the_host_generator():
    """What a seed means: draws from numpy.random.default_rng(seed), in float64, then cast."""
    g = backend.manual_seed(5)
    assert backend.generator() is g
    x = minigan.randn(2, 3)
    np.testing.assert_array_equal(x.numpy(), np.random.default_rng(5).standard_normal((2, 3)).astype(np.float32))


def test_to_numpy():
    a = np.arange(4.0)
    assert backend.to_numpy(a) is a  # no copy on the host
    out = backend.to_numpy([1, 2])
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [1, 2])


# --------------------------------------------------------------------------- NumPy / CuPy parity


def _mlp_run(name):
    minigan.use(name)
    minigan.manual_seed(11)
    x = minigan.randn(8, 3)
    w1 = minigan.randn(16, 3, requires_grad=True)
    b1 = minigan.randn(16, requires_grad=True)
    w2 = minigan.randn(1, 16, requires_grad=True)
    b2 = minigan.randn(1, requires_grad=True)
    h = F.leaky_relu(F.linear(x, w1, b1), 0.2)
    p = F.sigmoid(F.linear(h, w2, b2))
    loss = p.mean()
    loss.backward()
    return [p.numpy(), loss.numpy()] + [t.grad.numpy() for t in (w1, b1, w2, b2)]


@pytest.mark.gpu
def test_same_seed_same_mlp_values_on_numpy_and_cupy():
    cpu = _mlp_run("numpy")
    gpu = _mlp_run("cupy")
    assert len(cpu) == len(gpu) == 6
    for a, g in zip(cpu, gpu):
        assert a.dtype == g.dtype == np.float32
        np.testing.assert_allclose(g, a, rtol=1e-5, atol=1e-6)


def test_same_seed_same_mlp_values_on_numpy_and_the_standin(standin):
    """The parity recipe on the strict CuPy stand-in: it computes with NumPy, so exactly equal."""
    cpu = _mlp_run("numpy")
    dev = _mlp_run("cupy")
    assert len(cpu) == len(dev) == 6
    for a, g in zip(cpu, dev):
        assert a.dtype == g.dtype == np.float32
        np.testing.assert_array_equal(g, a)


def test_mlp_run_is_reproducible_on_numpy():
    """The parity test's recipe, on the CPU alone: the same seed gives bit-identical runs."""
    first, second = _mlp_run("numpy"), _mlp_run("numpy")
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert 0.0 < float(first[1]) < 1.0  # a mean of probabilities


def test_using_generator_swaps_the_runs_generator_for_a_block_and_puts_it_back():
    outer = backend.manual_seed(5)
    mine = np.random.default_rng(9)
    with backend.using_generator(mine) as g:
        assert g is mine and backend.generator() is mine
        a = minigan.randn(3).numpy()
    assert backend.generator() is outer
    np.testing.assert_array_equal(a, np.random.default_rng(9).standard_normal(3).astype(np.float32))
    with pytest.raises(RuntimeError), backend.using_generator(np.random.default_rng(1)):
        raise RuntimeError
    assert backend.generator() is outer
