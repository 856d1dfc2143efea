"""Shape ops: broadcast and its adjoint sum_to, reshape, transpose, indexing, concat, astype."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd.function import Array, Function
from minigan.autograd.tensor import Tensor

# --------------------------------------------------------------------------- broadcasting


def _sum_to_array(xp: Any, a: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``a`` down to ``shape``, undoing NumPy broadcasting."""
    # BEGIN EXERCISE sum-to (5 points): sum a broadcast gradient back to its input's shape
    # HINT: broadcasting can add leading axes (a.ndim - len(shape) of them) and stretch axes of
    #   size 1; each copy received gradient, so the input's gradient is the sum over the copies.
    # HINT: sum over every added leading axis and over every axis where shape has 1 and a does not
    #   (keepdims=True keeps the axes lined up), then reshape to exactly ``shape``.
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1)
    y = a.sum(axis=axes, keepdims=True) if axes else a
    if lead:
        y = y.reshape(shape)
    return y
    # END EXERCISE


class SumTo(Function):
    """y = x summed over the axes broadcasting added or stretched, to ``shape``;  gx = broadcast_to(gy, x.shape)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x: Array) -> Array:
        self.x_shape = x.shape
        return _sum_to_array(backend.get_array_module(x), x, self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return broadcast_to(gy, self.x_shape)


class BroadcastTo(Function):
    """y = x repeated to ``shape`` (NumPy broadcasting);  gx = sum_to(gy, x.shape)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x: Array) -> Array:
        self.x_shape = x.shape
        return backend.get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return sum_to(gy, self.x_shape)


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``x`` over the axes that broadcasting added or stretched, to get ``shape``."""
    if tuple(x.shape) == tuple(shape):
        return x
    return SumTo(shape)(x)


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``x`` repeated along axes of size 1 (or new leading axes) to ``shape``."""
    if tuple(x.shape) == tuple(shape):
        return x
    return BroadcastTo(shape)(x)


# --------------------------------------------------------------------------- shapes


class Reshape(Function):
    """y = x.reshape(shape) (the same values in C order);  gx = gy.reshape(x.shape)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Array) -> Array:
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, gy: Tensor) -> Tensor:
        return reshape(gy, self.x_shape)


class Transpose(Function):
    """y = x.transpose(axes) (reversed when None);  gx = gy.transpose(the inverse permutation)."""

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x: Array) -> Array:
        return x.transpose(self.axes)

    def backward(self, gy: Tensor) -> Tensor:
        if self.axes is None:
            return transpose(gy)
        inverse = tuple(int(i) for i in np.argsort(self.axes))
        return transpose(gy, inverse)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """The same values in a new shape (one axis may be -1)."""
    shape = tuple(int(s) for s in shape)
    if shape == tuple(x.shape):
        return x
    try:
        np.empty(x.shape, dtype=np.bool_).reshape(shape)  # validate cheaply, with a clear message
    except ValueError:
        raise ValueError(f"Cannot reshape a tensor of shape {x.shape} ({x.numel()} values) to {shape}.") from None
    return Reshape(shape)(x)


def transpose(x: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None), as ``numpy.transpose``."""
    return Transpose(None if axes is None else tuple(int(a) for a in axes))(x)


def _is_basic_index(index: Any) -> bool:
    """Slices, integers, None, Ellipsis and boolean masks only: each element is picked at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis))) or getattr(i, "dtype", None) == np.bool_
        for i in items
    )


def _raw_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


class GetItem(Function):
    """y = x[index];  gx = zeros of x's shape with gy added at the positions read (GetItemGrad)."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: Array) -> Array:
        return x[self.index]

    def backward(self, gy: Tensor) -> Tensor:
        (x,) = self.inputs
        return GetItemGrad(self.index, x.shape)(gy)


class GetItemGrad(Function):
    """y = zeros(shape) with g added at ``index`` (repeats add up): GetItem's backward;  gg = gy[index]."""

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, gy: Array) -> Array:
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            gx[self.index] = gy  # each position read once: plain assignment
        else:
            # Repeated indices must add up. (cupy.add.at since CuPy 12; cupyx.scatter_add is deprecated.)
            xp.add.at(gx, self.index, gy)
        return gx

    def backward(self, ggx: Tensor) -> Tensor:
        return get_item(ggx, self.index)


def get_item(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with a gradient (slices, integers, integer arrays, masks)."""
    return GetItem(_raw_index(index))(x)


class Concat(Function):
    """y = [x_1, ..., x_k] joined along ``axis``;  gx_i = gy's slice along ``axis`` where x_i sits."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs: Array) -> Array:
        return backend.get_array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
        grads, start = [], 0
        for x, need in zip(self.inputs, self.needs_input_grad):
            n = x.shape[self.axis]
            index = [slice(None)] * gy.ndim
            index[self.axis] = slice(start, start + n)
            grads.append(get_item(gy, tuple(index)) if need else None)
            start += n
        return tuple(grads)


def concat(xs: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``torch.cat``)."""
    xs = list(xs)
    if not xs:
        raise ValueError("concat needs at least one tensor.")
    axis = axis % xs[0].ndim
    ref = xs[0].shape
    for x in xs[1:]:
        if x.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(x.shape, ref)) if i != axis):
            raise ValueError(
                f"concat along axis {axis}: shapes {[tuple(x.shape) for x in xs]} differ on another axis."
            )
    return Concat(axis)(*xs)


def stack(xs: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    xs = list(xs)
    if not xs:
        raise ValueError("stack needs at least one tensor.")
    shapes = {tuple(x.shape) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack needs tensors of one shape, got {sorted(shapes)}.")
    axis = axis % (xs[0].ndim + 1)
    new_shape = xs[0].shape[:axis] + (1,) + xs[0].shape[axis:]
    return concat([reshape(x, new_shape) for x in xs], axis=axis)


class AsType(Function):
    """y = x converted to ``dtype``;  gx = gy converted back to x's dtype."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, x: Array) -> Array:
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy: Tensor) -> Tensor:
        return astype(gy, self.x_dtype)


def astype(x: Tensor, dtype: Any) -> Tensor:
    """A copy converted to ``dtype``; the gradient is converted back."""
    if np.dtype(dtype) == x.dtype:
        return x
    return AsType(np.dtype(dtype))(x)
