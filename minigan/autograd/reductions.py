"""Reductions: sum, mean, var, max over axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan.autograd.function import Array, Function
from minigan.autograd.shapes import broadcast_to, reshape
from minigan.autograd.tensor import Tensor

# --------------------------------------------------------------------------- reductions


def _normalize_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim for a in axis))


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced axes set to 1 (what keepdims=True gives)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over axis;  gx = gy broadcast back to the shape of x."""

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Array) -> Array:
        self.x_shape = x.shape
        self.axes = _normalize_axis(self.axis, x.ndim)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Tensor) -> Tensor:
        # Every element of x contributed once to its sum: copy gy back over the axes.
        return broadcast_to(reshape(gy, _kept_shape(self.x_shape, self.axes)), self.x_shape)


class Mean(Function):
    """y = mean of x over axis (n values each);  gx = gy / n broadcast back to the shape of x."""

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Array) -> Array:
        self.x_shape = x.shape
        self.axes = _normalize_axis(self.axis, x.ndim)
        self.count = int(np.prod([x.shape[a] for a in self.axes])) if self.axes else 1
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Tensor) -> Tensor:
        g = broadcast_to(reshape(gy, _kept_shape(self.x_shape, self.axes)), self.x_shape)
        return g * (1.0 / self.count)


class Max(Function):
    """y = max of x over axis;  gx = gy at the maximum (shared equally by ties), 0 elsewhere."""

    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x: Array) -> Array:
        self.axes = _normalize_axis(self.axis, x.ndim)
        return x.max(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy: Tensor) -> Tensor:
        (x,) = self.inputs
        kept = _kept_shape(x.shape, self.axes)
        y = self.output().data.reshape(kept)
        # The gradient goes to the maximum; ties share it equally.
        is_max = (x.data == y).astype(x.dtype)
        share = is_max / is_max.sum(axis=self.axes, keepdims=True)
        return broadcast_to(reshape(gy, kept), x.shape) * Tensor(share)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (an int, a tuple, or None for all)."""
    return Sum(axis, keepdims)(x)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (an int, a tuple, or None for all)."""
    return Mean(axis, keepdims)(x)


def var(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Biased variance mean((x - mean(x))^2) over ``axis``."""
    d = x - mean(x, axis, keepdims=True)
    return mean(d * d, axis, keepdims)


def max(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; the gradient flows to the largest element(s)."""
    return Max(axis, keepdims)(x)
