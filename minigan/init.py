"""Filling parameters with starting values, in place (``torch.nn.init``).

Every draw comes from the run's one generator (``minigan.manual_seed``), in
float64 on the host, then is cast to the tensor's dtype and copied to its
device. So a seed gives the same weights on NumPy and on CuPy.

This module knows tensors, not layers: the layer-aware recipes (PyTorch's
defaults) live in ``minigan.nn``, which imports this one; DCGAN's ``init_dcgan_`` is GAN
knowledge and lives in ``minigan.gan.models``.
"""

from __future__ import annotations

import math

import numpy as np

from minigan import backend
from minigan.autograd import Tensor

__all__ = ["fan_in", "uniform_", "normal_", "constant_", "zeros_", "ones_"]


def fan_in(weight: Tensor) -> int:
    """How many inputs feed one output unit: weight.shape[1] * KH * KW (the receptive field size).

    Linear (out, in) -> in; Conv2d (OC, IC, KH, KW) -> IC*KH*KW. As in PyTorch, this reads
    axis 1 of *any* weight, so for ConvTranspose2d (IC, OC, KH, KW) it is OC*KH*KW.
    """
    if weight.ndim < 2:
        raise ValueError(f"fan_in needs a weight with at least 2 axes, got shape {weight.shape}.")
    return int(weight.shape[1]) * int(math.prod(weight.shape[2:]))


def _fill(tensor: Tensor, host: np.ndarray) -> Tensor:
    """Write host values into tensor.data in place (the array keeps its identity, dtype and device)."""
    xp = backend.get_array_module(tensor.data)
    tensor.data[...] = xp.asarray(host.astype(tensor.dtype))
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with draws from U(a, b), in place. Returns the tensor."""
    return _fill(tensor, backend.generator().uniform(float(a), float(b), size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with draws from N(mean, std^2), in place. Returns the tensor."""
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}.")
    return _fill(tensor, backend.generator().normal(float(mean), float(std), size=tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with one value, in place. Returns the tensor."""
    tensor.data[...] = value
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0, in place (biases, BatchNorm's beta)."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1, in place (BatchNorm's gamma)."""
    return constant_(tensor, 1.0)
