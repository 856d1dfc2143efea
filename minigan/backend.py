"""One switch between NumPy (CPU) and CuPy (GPU).

This is the bottom of the house: it imports nothing from minigan.

Two rules keep the same code running on both:

* Ops never ask "which backend is on?". They ask the *array*:
  ``xp = get_array_module(a, b)`` returns ``numpy`` or ``cupy``.
* Code that *creates* arrays (parameter init, noise, data batches) uses
  ``current()``, set by ``use(name)`` or the ``MINIGAN_BACKEND`` variable.

All randomness comes from one ``numpy.random.Generator`` made on the host and
copied to the device, so a seed gives the same weights and the same z on the
CPU and on the GPU.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

# CuPy is optional (the [cuda] extra) and loaded only when first needed, so a NumPy run
# never touches CUDA. ``_cupy`` is the device module once loaded: real CuPy, or the
# stand-in a test gave ``device_module``; None until then, or where there is none.
_cupy: Any = sys.modules.get("cupy")
_cupy_tried = _cupy is not None


def _load_cupy() -> Any:
    """The device module, importing CuPy on the first call; None where it does not import."""
    global _cupy, _cupy_tried
    if _cupy is None and not _cupy_tried:
        _cupy_tried = True
        try:
            import cupy
        except Exception:  # ImportError, or a CuPy wheel that cannot find CUDA.
            return None
        _cupy = cupy
    return _cupy

__all__ = [
    "Backend",
    "BackendError",
    "use",
    "current",
    "default_name",
    "get_array_module",
    "cupy_available",
    "to_numpy",
    "manual_seed",
    "generator",
    "device_module",
    "is_device_array",
]

CUPY_INSTALL_HINT = (
    "install CuPy for your CUDA version, e.g. `pip install -e \".[cuda]\"` "
    "(cupy-cuda12x) or `pip install cupy-cuda13x`, on a machine with an NVIDIA GPU, "
    "or choose the `backend` numpy"
)


class BackendError(RuntimeError):
    """A backend was asked for that this machine cannot give, or arrays were mixed."""


class Backend:
    """What code that creates arrays needs to know about one array library.

    ``xp`` is the module itself (``numpy`` or ``cupy``); the methods move
    arrays between host and device.
    """

    def __init__(self, name: str, xp: ModuleType) -> None:
        self.name = name
        self.xp = xp

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        """Host (or device) data -> an array of this backend."""
        return self.xp.asarray(a, dtype=dtype)

    def to_numpy(self, a: Any) -> np.ndarray:
        """An array of this backend -> a NumPy array on the host."""
        return to_numpy(a)

    def synchronize(self) -> None:
        """Wait for the device to finish queued work (a no-op on the CPU).

        Call it before reading a clock: GPU kernels run asynchronously.
        """
        if self.xp is not np:
            self.xp.cuda.Device().synchronize()

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"


_NUMPY = Backend("numpy", np)
_CUPY: Backend | None = None


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    cupy = _load_cupy()
    if cupy is None:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _get_backend(name: str) -> Backend:
    global _CUPY
    name = str(name).lower()
    if name == "numpy":
        return _NUMPY
    if name == "cupy":
        if _load_cupy() is None:
            raise BackendError(f"The cupy backend needs CuPy, which is not installed: {CUPY_INSTALL_HINT}.")
        if not cupy_available():
            raise BackendError(
                f"The cupy backend needs a CUDA GPU, and CuPy finds none on this machine: {CUPY_INSTALL_HINT}."
            )
        if _CUPY is None:
            _CUPY = Backend("cupy", _cupy)
        return _CUPY
    raise BackendError(f"Unknown backend {name!r}: choose 'numpy' or 'cupy'.")


_current: Backend | None = None


def use(name: str) -> Backend:
    """Make ``name`` ('numpy' or 'cupy') the backend that new arrays are created on."""
    global _current
    _current = _get_backend(name)
    return _current


def default_name() -> str:
    """The name of the backend a new run uses when none is chosen: ``use()``'s, else
    ``$MINIGAN_BACKEND``, else numpy. Loads nothing, so it never fails."""
    if _current is not None:
        return _current.name
    return (os.environ.get("MINIGAN_BACKEND") or "numpy").lower()


def current() -> Backend:
    """The backend new arrays are created on: ``use()``'s, else ``$MINIGAN_BACKEND``, else numpy."""
    global _current
    if _current is None:
        _current = _get_backend(os.environ.get("MINIGAN_BACKEND", "numpy") or "numpy")
    return _current


@contextlib.contextmanager
def device_module(module: Any) -> Iterator[None]:
    """For tests: inside the block, ``module`` plays CuPy; ``None`` plays "CuPy is not installed".

    The one way the suite swaps the device library (the strict CuPy stand-in in
    ``tests/strict_cupy.py``, or a fake without a device). Everything is put back after.
    """
    global _cupy, _cupy_tried, _CUPY, _current
    saved = (_cupy, _cupy_tried, _CUPY, _current)
    _cupy, _cupy_tried, _CUPY = module, True, None
    if _current is not None and _current.name == "cupy":
        _current = None
    try:
        yield
    finally:
        _cupy, _cupy_tried, _CUPY, _current = saved


def is_device_array(a: Any) -> bool:
    """True for a CuPy array (loading CuPy if such an array appears before any ``use``)."""
    if _cupy is None and type(a).__module__.startswith("cupy"):
        _load_cupy()
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def get_array_module(*arrays: Any) -> ModuleType:
    """``numpy`` or ``cupy``, whichever the arrays belong to.

    Python scalars and ``None`` are ignored. Mixing a NumPy and a CuPy array
    is an error: it would mean an implicit copy between host and device.
    """
    xp = np
    seen_cupy = seen_numpy = False
    for a in arrays:
        if is_device_array(a):
            seen_cupy = True
        elif isinstance(a, (np.ndarray, np.generic)):
            seen_numpy = True
    if seen_cupy:
        if seen_numpy:
            raise BackendError(
                "One operation got a NumPy (CPU) array and a CuPy (GPU) array: move both to one "
                "backend first, e.g. with minigan.tensor(x) after minigan.use('cupy'), or .numpy()."
            )
        xp = _cupy
    return xp


def to_numpy(a: Any) -> np.ndarray:
    """Any array (NumPy or CuPy) -> a NumPy array on the host."""
    if is_device_array(a):
        return _cupy.asnumpy(a)
    return np.asarray(a)


_generator: np.random.Generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the run's one random generator (weights, noise, dropout, shuffling)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator() -> np.random.Generator:
    """The run's random generator. It lives on the host; draws are sent to the device."""
    return _generator


@contextlib.contextmanager
def using_generator(rng: np.random.Generator) -> Iterator[np.random.Generator]:
    """Inside the block, ``generator()`` is ``rng``; the previous generator is put back after.

    For code that keeps several games in one process (the lab's sessions): each draws its weights,
    noise and data from a stream of its own, so one session's seed repeats whatever the others do.
    Not thread-safe: callers that share the process between threads hold one lock around the block.
    """
    global _generator
    saved = _generator
    _generator = rng
    try:
        yield rng
    finally:
        _generator = saved
