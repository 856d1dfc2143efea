"""Making tensors on the current backend: zeros, ones, random draws.

Random values are drawn on the host from the run's one generator
(``minigan.manual_seed``) and then sent to the device, so the same seed gives
the same numbers under NumPy and CuPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd.tensor import Tensor

__all__ = ["zeros", "ones", "zeros_like", "ones_like", "randn", "rand", "randint", "arange"]


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _make(host: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(backend.current().asarray(host), requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros, e.g. ``zeros(64, 2)``."""
    return Tensor(backend.current().xp.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """A tensor of ones, e.g. ``ones(64, 1)``."""
    return Tensor(backend.current().xp.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(x: Tensor) -> Tensor:
    """Zeros with x's shape, dtype and backend."""
    return Tensor(backend.get_array_module(x.data).zeros_like(x.data))


def ones_like(x: Tensor) -> Tensor:
    """Ones with x's shape, dtype and backend."""
    return Tensor(backend.get_array_module(x.data).ones_like(x.data))


def randn(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal draws N(0, 1), e.g. the noise z = randn(batch, z_dim).

    Drawn on the host from ``generator`` (default: the seeded one of ``backend.manual_seed``),
    in float64 then cast, so a seed gives the same values on NumPy and CuPy, in any dtype.
    """
    rng = backend.generator() if generator is None else generator
    host = rng.standard_normal(_shape(shape), dtype=np.float64).astype(dtype)
    return _make(host, requires_grad)


def rand(*shape: Any, dtype: Any = np.float32, requires_grad: bool = False) -> Tensor:
    """Uniform draws on [0, 1)."""
    host = backend.generator().random(_shape(shape), dtype=np.float64).astype(dtype)
    return _make(host, requires_grad)


def randint(low: int, high: int, shape: Any) -> Tensor:
    """Integers drawn uniformly from [low, high)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _make(backend.generator().integers(low, high, size=shape), False)


def arange(*args: Any, dtype: Any = None) -> Tensor:
    """Evenly spaced values, as ``numpy.arange``."""
    return Tensor(backend.current().xp.arange(*args, dtype=dtype))
