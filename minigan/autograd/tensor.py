"""The Tensor: an array that remembers the Function that made it.

Every operator and method of ``Tensor`` is one of the ops (``arithmetic``,
``elementwise``, ``reductions``, ``shapes``), so ``a * b + c`` records the same graph
as ``add(mul(a, b), c)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minigan import backend

if TYPE_CHECKING:
    from minigan.autograd.function import Function

# --------------------------------------------------------------------------- Tensor


def _is_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) or backend.is_device_array(a)


class Tensor:
    """An array that remembers how it was made.

    Attributes:
        data: the values, a NumPy or CuPy array.
        grad: the gradient d(output)/d(self) after ``backward()``, a Tensor, or None.
        requires_grad: whether operations on this tensor are recorded.
        creator: the Function that produced it (None for a leaf: data or a parameter).
    """

    # Make ``ndarray + Tensor`` call ``Tensor.__radd__`` instead of NumPy's broadcasting.
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if type(data) is not np.ndarray:  # the common case first: every op result is one
            if isinstance(data, Tensor):
                data = data.data
            if not _is_array(data):
                data = np.asarray(data)
        self.data = data
        self.grad: Tensor | None = None
        self.creator: Function | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """A leaf was not made by a recorded operation: data, or a parameter."""
        return self.creator is None

    @property
    def T(self) -> Tensor:
        """The axes reversed (the matrix transpose for 2-D)."""
        return _shapes.transpose(self)

    def numel(self) -> int:
        """The number of values, the product of the shape."""
        return int(self.data.size)

    def __len__(self) -> int:
        return len(self.data)

    # ---- conversion
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array on the host (a copy from the GPU under CuPy)."""
        return backend.to_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def detach(self) -> Tensor:
        """The same values, cut from the graph: no gradient flows through the result."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Turn gradient tracking of this leaf on or off, in place."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"Only floating-point tensors can require gradients, and this one is {self.data.dtype}: "
                "convert it first, e.g. minigan.tensor(x, dtype='float32')."
            )
        self.requires_grad = bool(requires_grad)
        return self

    def astype(self, dtype: Any) -> Tensor:
        """A copy with another dtype (differentiable between float types)."""
        return _shapes.astype(self, dtype)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", threshold=50)
        extra = ""
        if self.dtype != np.float32:
            extra += f", dtype={self.dtype}"
        if self.creator is not None:
            extra += f", grad_fn=<{type(self.creator).__name__}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- autograd
    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires it.

        ``grad`` is d(loss)/d(self); it may be left out when ``self`` holds one value.
        ``create_graph=True`` records the backward pass, for second derivatives.
        """
        _backward([self], [grad], create_graph=create_graph, inputs=None)

    # ---- arithmetic (every operator is an op in minigan.autograd)
    def __add__(self, other: Any) -> Tensor:
        return _arithmetic.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _arithmetic.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _arithmetic.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _arithmetic.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _arithmetic.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _arithmetic.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _arithmetic.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _arithmetic.div(other, self)

    def __neg__(self) -> Tensor:
        return _arithmetic.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent: float) -> Tensor:
        return _arithmetic.pow(self, exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return _arithmetic.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _arithmetic.matmul(other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return _shapes.get_item(self, index)

    # Comparisons give boolean tensors with no gradient (accuracy, masks).
    def __lt__(self, other: Any) -> Tensor:
        return Tensor(self.data < _raw(other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor(self.data > _raw(other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor(self.data >= _raw(other))

    # Tensors hash by identity (they are graph nodes), so == is not elementwise here.
    __hash__ = object.__hash__

    # ---- methods that mirror the functions in minigan.autograd
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape, ``x.reshape(N, -1)`` or ``x.reshape((N, -1))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _shapes.reshape(self, shape)

    view = reshape

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        """Swap two axes, as ``torch.transpose``; with none given, reverse all axes."""
        if dim0 is None and dim1 is None:
            return _shapes.transpose(self)
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return _shapes.transpose(self, tuple(axes))

    def permute(self, *axes: Any) -> Tensor:
        """Reorder all axes, as ``numpy.transpose(x, axes)``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _shapes.transpose(self, tuple(axes))

    def flatten(self, start_dim: int = 0) -> Tensor:
        """The axes from ``start_dim`` on joined into one: (N, C, H, W) -> (N, C*H*W) for start_dim=1."""
        return _shapes.reshape(self, self.shape[:start_dim] + (-1,))

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reductions.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reductions.mean(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reductions.var(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _reductions.max(self, axis, keepdims)

    def exp(self) -> Tensor:
        return _elementwise.exp(self)

    def log(self) -> Tensor:
        return _elementwise.log(self)

    def sqrt(self) -> Tensor:
        return _elementwise.sqrt(self)

    def pow(self, exponent: float) -> Tensor:
        return _arithmetic.pow(self, exponent)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _elementwise.clip(self, min, max)

    clamp = clip

    def abs(self) -> Tensor:
        return _elementwise.abs(self)

    def tanh(self) -> Tensor:
        return _elementwise.tanh(self)

    def sigmoid(self) -> Tensor:
        return _elementwise.sigmoid(self)

    def relu(self) -> Tensor:
        return _elementwise.relu(self)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a leaf tensor on the current backend, as ``torch.tensor``.

    Python floats and lists of them become float32; NumPy arrays keep their dtype
    unless ``dtype`` is given (so float64 stays float64 for gradient checks).
    """
    if isinstance(data, Tensor):
        data = data.data
    if not _is_array(data):
        host = np.asarray(data)
        if dtype is None and host.dtype == np.float64:
            dtype = np.float32  # Python floats: float32, the library default
        data = host
    return Tensor(backend.current().asarray(data, dtype=dtype), requires_grad=requires_grad)


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; a Python number takes ``like``'s dtype and array module.

    Keeping scalars in the dtype of the tensor they meet is what stops NumPy 2 from
    promoting float32 to float64 (a 0-d float64 array is not "weak" the way a
    Python float is).
    """
    if isinstance(x, Tensor):
        return x
    if _is_array(x):
        return Tensor(x)
    if like is not None:
        xp = backend.get_array_module(like.data)
        dtype = like.data.dtype if like.data.dtype.kind == "f" else None
        if xp is not np and isinstance(x, (bool, int, float, np.generic)):
            # On the GPU a number is written by a fill kernel: asarray would copy it from the host.
            return Tensor(xp.full((), x, dtype=dtype or np.asarray(x).dtype))
        return Tensor(xp.asarray(x, dtype=dtype))
    return tensor(x)


# The ops import Tensor from this module, so they are imported last.
from minigan.autograd import arithmetic as _arithmetic  # noqa: E402
from minigan.autograd import elementwise as _elementwise  # noqa: E402
from minigan.autograd import reductions as _reductions  # noqa: E402
from minigan.autograd import shapes as _shapes  # noqa: E402
from minigan.autograd.engine import _backward  # noqa: E402
