"""The differentiable operations: elementwise math, reductions, shapes, activations.

Each op is a ``Function`` subclass (forward on arrays, backward on Tensors) and a
lowercase function that calls it. Every backward uses only ops from this module
(or ``conv``), so it can itself be differentiated: second derivatives for free.

Broadcasting is handled in one place: a binary op's backward reduces its
gradient to each input's shape with ``sum_to``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import Function, Tensor, as_tensor

# --------------------------------------------------------------------------- broadcasting


def _sum_to_array(xp: Any, a: Any, shape: tuple[int, ...]) -> Any:
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
    """Sum a broadcast array back to ``shape``: the backward of broadcasting."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        return _sum_to_array(backend.get_array_module(x), x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.x_shape)


class BroadcastTo(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        return backend.get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
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


# --------------------------------------------------------------------------- arithmetic


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        gb = sum_to(-gy, b.shape) if self.needs_input_grad[1] else None
        return sum_to(gy, a.shape), gb


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """x ** c for a constant exponent c: d/dx = c x^(c-1)."""

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x):
        return x**self.c

    def backward(self, gy):
        (x,) = self.inputs
        return gy * (self.c * x ** (self.c - 1))


def _check_float_scalar(name: str, value: Any) -> None:
    if isinstance(value, Tensor) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: the exponent must be a Python number, got {type(value).__name__}.")


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting."""
    return Add()(*_pair(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting."""
    return Sub()(*_pair(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """a * b elementwise, broadcasting."""
    return Mul()(*_pair(a, b))


def div(a: Any, b: Any) -> Tensor:
    """a / b elementwise, broadcasting."""
    return Div()(*_pair(a, b))


def neg(x: Tensor) -> Tensor:
    """-x."""
    return Neg()(x)


def pow(x: Tensor, c: float) -> Tensor:
    """x ** c for a constant (Python number) exponent c."""
    _check_float_scalar("pow", c)
    return Pow(c)(x)


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a Python number takes the other operand's dtype."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    if isinstance(b, Tensor):
        return as_tensor(a, like=b), b
    a = as_tensor(a)  # neither is a Tensor (e.g. where(mask, 1.0, 0.0)): a sets the dtype
    return a, as_tensor(b, like=a)


# --------------------------------------------------------------------------- matmul


class MatMul(Function):
    """a @ b for a, b with at least 2 axes (leading axes broadcast as a batch)."""

    def forward(self, a, b):
        if a.shape[-1] == 1:
            # Inner size 1 is an outer product (D's last layer, dL/dx = gy W with W (1, in)):
            # OpenBLAS takes 0.56 ms for (64, 1) @ (1, 6272), broadcasting a * b 0.05 ms.
            return a * b
        return a @ b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(matmul(gy, swap_last(b)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(matmul(swap_last(a), gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product a @ b: (..., n, k) @ (..., k, m) -> (..., n, m)."""
    a, b = _pair(a, b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(
            f"matmul needs two tensors with at least 2 axes, got shapes {a.shape} and {b.shape}: "
            "reshape a vector v to a row v.reshape(1, -1) or a column v.reshape(-1, 1)."
        )
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not line up: the last axis of the first "
            f"({a.shape[-1]}) must equal the second-to-last axis of the second ({b.shape[-2]})."
        )
    return MatMul()(a, b)


def swap_last(x: Tensor) -> Tensor:
    """Swap the last two axes (the transpose of each matrix in a batch)."""
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes)


# --------------------------------------------------------------------------- elementwise functions


class Exp(Function):
    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.output()  # d/dx e^x = e^x


class Log(Function):
    def forward(self, x):
        return backend.get_array_module(x).log(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy / x


class Sqrt(Function):
    def forward(self, x):
        return backend.get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy / (2.0 * self.output())  # d/dx sqrt(x) = 1 / (2 sqrt(x))


class Abs(Function):
    def forward(self, x):
        return backend.get_array_module(x).abs(x)

    def backward(self, gy):
        (x,) = self.inputs
        return gy * Tensor(backend.get_array_module(x.data).sign(x.data))


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes where x is inside, is 0 outside."""

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return backend.get_array_module(x).clip(x, self.lo, self.hi)

    def backward(self, gy):
        (x,) = self.inputs
        # Python floats (not NumPy scalars), so the mask is built by whichever backend holds x.
        lo = -float("inf") if self.lo is None else float(self.lo)
        hi = float("inf") if self.hi is None else float(self.hi)
        inside = (x.data >= lo) & (x.data <= hi)
        return gy * Tensor(inside.astype(x.dtype))


def exp(x: Tensor) -> Tensor:
    """e^x elementwise."""
    return Exp()(x)


def log(x: Tensor) -> Tensor:
    """Natural logarithm elementwise (x > 0)."""
    return Log()(x)


def sqrt(x: Tensor) -> Tensor:
    """Square root elementwise (x >= 0)."""
    return Sqrt()(x)


def abs(x: Tensor) -> Tensor:
    """|x| elementwise (gradient sign(x), 0 at 0)."""
    return Abs()(x)


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """x clamped to [min, max] elementwise; gradient 1 inside, 0 outside."""
    if min is None and max is None:
        raise ValueError("clip needs min, max or both.")
    return Clip(min, max)(x)


# --------------------------------------------------------------------------- activations


def _check_float(name: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name} expects a floating-point tensor, got {x.dtype}: convert it with "
            "x.astype('float32') or minigan.tensor(data, dtype='float32')."
        )


class ReLU(Function):
    def forward(self, x):
        return backend.get_array_module(x).maximum(x, 0)

    def backward(self, gy):
        (x,) = self.inputs
        # The mask as a float 0/1 array: gy * mask has no data-dependent branch (np.where
        # on random signs mispredicts half its branches and ran 10x slower).
        return gy * Tensor((x.data > 0).astype(x.dtype))


class LeakyReLU(Function):
    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x):
        xp = backend.get_array_module(x)
        if 0.0 <= self.slope <= 1.0:
            # max(x, a x) is x for x > 0 and a x below, for 0 <= a <= 1: one temporary, in place,
            # and no branch (np.where(x > 0, x, a x) took 10x longer on random signs).
            y = x * self.slope
            return xp.maximum(y, x, out=y)
        return xp.where(x > 0, x, x * self.slope)

    def backward(self, gy):
        (x,) = self.inputs
        slope = (x.data > 0).astype(x.dtype)  # 1 where x > 0, else a: 1 * (1 - a) + a, 0 * (1 - a) + a
        slope *= 1.0 - self.slope
        slope += self.slope
        return gy * Tensor(slope)


class Sigmoid(Function):
    def forward(self, x):
        # BEGIN EXERCISE sigmoid (5 points): the logistic sigmoid, forward and backward
        # HINT: forward gets a raw array; xp = backend.get_array_module(x) is NumPy or CuPy.
        # HINT: 1 / (1 + e^-x) overflows in e^-x for x << 0, and the tests treat that overflow as an
        #   error: write sigma so that no exponent is ever large and positive. Keep float32 float32:
        #   use Python numbers, not np.float64.
        return backend.get_array_module(x).tanh(x * 0.5) * 0.5 + 0.5
        # END EXERCISE

    def backward(self, gy):
        # BEGIN EXERCISE sigmoid (5 points): the logistic sigmoid, forward and backward
        # HINT: sigma'(x) = sigma(x) (1 - sigma(x)), and self.output() is the Tensor y = sigma(x).
        # HINT: write it with Tensor operations (gy * ...), not raw arrays, so that the backward
        #   pass can itself be differentiated (create_graph=True).
        y = self.output()
        return gy * y * (1.0 - y)  # sigma' = sigma (1 - sigma)
        # END EXERCISE


class Tanh(Function):
    def forward(self, x):
        return backend.get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.output()
        return gy * (1.0 - y * y)  # tanh' = 1 - tanh^2


class Softplus(Function):
    def forward(self, x):
        # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for large |x|.
        xp = backend.get_array_module(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        (x,) = self.inputs
        return gy * sigmoid(x)  # softplus' = sigma


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise."""
    _check_float("relu", x)
    return ReLU()(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    _check_float("leaky_relu", x)
    return LeakyReLU(negative_slope)(x)


def sigmoid(x: Tensor) -> Tensor:
    """sigma(x) = 1 / (1 + e^-x), the probability a logit stands for."""
    _check_float("sigmoid", x)
    return Sigmoid()(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(x), values in (-1, 1)."""
    _check_float("tanh", x)
    return Tanh()(x)


def softplus(x: Tensor) -> Tensor:
    """log(1 + e^x), computed stably; note softplus(-l) = -log sigma(l)."""
    _check_float("softplus", x)
    return Softplus()(x)


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
    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x_shape = x.shape
        self.axes = _normalize_axis(self.axis, x.ndim)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        # Every element of x contributed once to its sum: copy gy back over the axes.
        return broadcast_to(reshape(gy, _kept_shape(self.x_shape, self.axes)), self.x_shape)


class Mean(Function):
    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x_shape = x.shape
        self.axes = _normalize_axis(self.axis, x.ndim)
        self.count = int(np.prod([x.shape[a] for a in self.axes])) if self.axes else 1
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        g = broadcast_to(reshape(gy, _kept_shape(self.x_shape, self.axes)), self.x_shape)
        return g * (1.0 / self.count)


class Max(Function):
    def __init__(self, axis: Any, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axis(self.axis, x.ndim)
        return x.max(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
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


# --------------------------------------------------------------------------- shapes


def _is_channels_last(a: Any) -> bool:
    """True for an (N, C, H, W) array whose memory is (N, H, W, C), as the convolutions return."""
    return a.ndim == 4 and not a.flags.c_contiguous and a.transpose(0, 2, 3, 1).flags.c_contiguous


class Reshape(Function):
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        self.x_channels_last = _is_channels_last(x)
        return x.reshape(self.shape)

    def backward(self, gy):
        gx = reshape(gy, self.x_shape)
        # Flatten after a convolution: hand the gradient back in the input's channels-last
        # memory (one copy here), so that the activation and batch-norm backward passes that
        # follow work on two operands of one layout (a mix ran them 2x slower) and the
        # convolution's backward needs no copy of its own.
        return ChannelsLast()(gx) if self.x_channels_last else gx


class ChannelsLast(Function):
    """The same (N, C, H, W) values, stored with the channel axis last in memory (a copy)."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        return xp.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

    def backward(self, gy):
        return gy


class Transpose(Function):
    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):
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


def channels_last(x: Tensor) -> Tensor:
    """The same (N, C, H, W) values stored channels-last, (N, H, W, C), in memory; the gradient passes unchanged."""
    if x.ndim != 4:
        raise ValueError(f"channels_last expects a tensor of shape (N, C, H, W), got {x.shape}.")
    return ChannelsLast()(x)


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
    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        (x,) = self.inputs
        return GetItemGrad(self.index, x.shape)(gy)


class GetItemGrad(Function):
    """Scatter a gradient back to the positions ``x[index]`` read from."""

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            gx[self.index] = gy  # each position read once: plain assignment
        else:
            # Repeated indices must add up. (cupy.add.at since CuPy 12; cupyx.scatter_add is deprecated.)
            xp.add.at(gx, self.index, gy)
        return gx

    def backward(self, ggx):
        return get_item(ggx, self.index)


def get_item(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with a gradient (slices, integers, integer arrays, masks)."""
    return GetItem(_raw_index(index))(x)


class Concat(Function):
    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs):
        return backend.get_array_module(*xs).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        grads, start = [], 0
        for x in self.inputs:
            n = x.shape[self.axis]
            index = [slice(None)] * gy.ndim
            index[self.axis] = slice(start, start + n)
            grads.append(get_item(gy, tuple(index)))
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
    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.x_dtype)


def astype(x: Tensor, dtype: Any) -> Tensor:
    """A copy converted to ``dtype``; the gradient is converted back."""
    if np.dtype(dtype) == x.dtype:
        return x
    return AsType(np.dtype(dtype))(x)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where condition holds, else b (condition is a constant mask)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _pair(a, b)
    xp = backend.get_array_module(a.data, b.data)
    mask = Tensor(xp.asarray(cond).astype(a.dtype))
    return a * mask + b * (1.0 - mask)

