"""Reverse-mode automatic differentiation: ``Tensor``, ``Function``, ``backward``, ``grad``.

Define-by-run, as in PyTorch: every operation on tensors that require a
gradient records the ``Function`` that made its result. ``y.backward()`` then
walks that graph from ``y`` back to the leaves, in reverse topological order,
applying the chain rule once per function.

Every ``Function.backward`` is written with differentiable tensor operations.
So when the backward pass itself is recorded (``create_graph=True``), the
gradients are tensors with a graph of their own and can be differentiated
again: that is how the WGAN gradient penalty and the unrolled GAN get their
second derivatives.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigan import backend

__all__ = [
    "Tensor",
    "Function",
    "tensor",
    "as_tensor",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "grad",
]


# --------------------------------------------------------------------------- grad mode

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True while operations are being recorded for backward."""
    return _grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns recording on or off."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        global _grad_enabled
        _grad_enabled = self.prev

    def __call__(self, fn):  # used as a decorator
        mode = self.mode

        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper


class no_grad(set_grad_enabled):
    """``with minigan.no_grad():`` records nothing (sampling, evaluation, optimizer steps)."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """``with minigan.enable_grad():`` records again inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


# --------------------------------------------------------------------------- Tensor


def _is_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) or (backend._cupy is not None and isinstance(a, backend._cupy.ndarray))


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
        return _ops.transpose(self)

    def numel(self) -> int:
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
        return _ops.astype(self, dtype)

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

    # ---- arithmetic (every operator is an op in minigan.ops)
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return _ops.pow(self, exponent)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __getitem__(self, index):
        return _ops.get_item(self, index)

    # Comparisons give boolean tensors with no gradient (accuracy, masks).
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    # Tensors hash by identity (they are graph nodes), so == is not elementwise here.
    __hash__ = object.__hash__

    # ---- methods that mirror the functions in minigan.ops
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    view = reshape

    def transpose(self, dim0: int | None = None, dim1: int | None = None):
        """Swap two axes, as ``torch.transpose``; with none given, reverse all axes."""
        if dim0 is None and dim1 is None:
            return _ops.transpose(self)
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return _ops.transpose(self, tuple(axes))

    def permute(self, *axes):
        """Reorder all axes, as ``numpy.transpose(x, axes)``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, tuple(axes))

    def flatten(self, start_dim: int = 0):
        return _ops.reshape(self, self.shape[:start_dim] + (-1,))

    def sum(self, axis=None, keepdims: bool = False):
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        return _ops.mean(self, axis, keepdims)

    def var(self, axis=None, keepdims: bool = False):
        return _ops.var(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        return _ops.max(self, axis, keepdims)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def clip(self, min=None, max=None):
        return _ops.clip(self, min, max)

    clamp = clip

    def abs(self):
        return _ops.abs(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)


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
        return Tensor(xp.asarray(x, dtype=like.data.dtype if like.data.dtype.kind == "f" else None))
    return tensor(x)


# --------------------------------------------------------------------------- Function


class Function:
    """One differentiable operation.

    Subclasses define ``forward(*arrays) -> array(s)`` on raw NumPy/CuPy arrays and
    ``backward(*grad_outputs) -> grad(s)`` on Tensors, using differentiable ops only.
    In ``backward``, ``self.inputs`` are the input Tensors, ``self.output(i)`` the
    output Tensors, and ``self.needs_input_grad[i]`` says which gradients are wanted
    (return None for the others, to save work).
    """

    inputs: tuple[Tensor, ...]
    needs_input_grad: tuple[bool, ...]

    def __call__(self, *inputs: Any) -> Any:
        # This runs for every operation, forward and backward, so it is kept lean: an MLP
        # iteration calls it ~110 times, and its overhead is what a small model pays per op.
        like = None
        for x in inputs:
            if isinstance(x, Tensor):
                like = x
                break
        tensors = tuple(x if isinstance(x, Tensor) else as_tensor(x, like) for x in inputs)
        arrays = [t.data for t in tensors]
        if backend._cupy is not None:  # only with CuPy loaded can a NumPy and a CuPy array meet
            backend.get_array_module(*arrays)  # refuses to mix them
        ys = self.forward(*arrays)
        if not isinstance(ys, tuple):
            ys = (ys,)
        outputs = [Tensor(y) for y in ys]
        if _grad_enabled and any(t.requires_grad for t in tensors):
            self.inputs = tensors
            self.needs_input_grad = tuple(t.requires_grad for t in tensors)
            # Weak references: a function must not keep its outputs alive (the
            # outputs hold the function, and a cycle would delay freeing memory).
            self._outputs = [weakref.ref(y) for y in outputs]
            for y in outputs:
                y.requires_grad = True
                y.creator = self
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def output(self, i: int = 0) -> Tensor:
        """The i-th output Tensor (for backward formulas such as sigmoid's y(1 - y))."""
        y = self._outputs[i]()
        if y is None:  # pragma: no cover - only if a caller dropped an output mid-backward
            raise RuntimeError(f"{type(self).__name__}: its output was freed before backward.")
        return y

    def forward(self, *arrays: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *grad_outputs: Tensor) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define backward()")


# --------------------------------------------------------------------------- backward


def _topological_order(roots: Sequence[Tensor]) -> list[Function]:
    """The functions behind ``roots``, each after every function that consumes its output.

    An iterative depth-first search (no recursion limit on deep graphs). A
    function is appended only after all the functions that made its inputs, so
    reversing the list puts every consumer before its producers: by the time we
    reach a function, every gradient flowing into its outputs has arrived.
    """
    order: list[Function] = []
    visited: set[int] = set()
    stack: list[tuple[Function, bool]] = [(r.creator, False) for r in roots if r.creator is not None]
    while stack:
        f, inputs_done = stack.pop()
        if inputs_done:
            order.append(f)
            continue
        if id(f) in visited:
            continue
        visited.add(id(f))
        stack.append((f, True))
        for x in f.inputs:
            if x.creator is not None and id(x.creator) not in visited:
                stack.append((x.creator, False))
    order.reverse()
    return order


def _initial_grad(y: Tensor, g: Any) -> Tensor:
    if g is None:
        if y.data.size != 1:
            raise RuntimeError(
                f"backward() on a tensor of shape {y.shape} needs its gradient: pass one of that "
                "shape, y.backward(g), or reduce y to one value first, e.g. y.sum().backward()."
            )
        xp = backend.get_array_module(y.data)
        return Tensor(xp.ones_like(y.data))
    g = as_tensor(g, like=y)
    if g.shape != y.shape:
        raise ValueError(f"backward(): the gradient has shape {g.shape} but the tensor has shape {y.shape}.")
    if g.dtype != y.dtype:  # else float64 would spread silently into every float32 .grad
        raise TypeError(
            f"backward(): the gradient is {g.dtype} but the tensor is {y.dtype}: pass g.astype('{y.dtype}')."
        )
    return g


def _backward(
    outputs: Sequence[Tensor],
    grad_outputs: Sequence[Any],
    create_graph: bool,
    inputs: Sequence[Tensor] | None,
) -> list[Tensor | None] | None:
    """The chain rule over the graph. Accumulates into leaves' ``.grad`` when
    ``inputs`` is None; otherwise returns d(outputs)/d(inputs) and touches no ``.grad``."""
    for y in outputs:
        if not y.requires_grad:
            raise RuntimeError(
                "This tensor does not require a gradient, so there is nothing to backpropagate: "
                "did you compute it under no_grad(), from detached values, or from parameters "
                "with requires_grad=False?"
            )
    # Gradients flowing into each tensor so far, keyed by id (the tensor is kept alive
    # by the graph while we work).
    grads: dict[int, Tensor] = {}
    wanted = {id(x): i for i, x in enumerate(inputs)} if inputs is not None else {}
    results: list[Tensor | None] = [None] * (len(inputs) if inputs is not None else 0)

    with set_grad_enabled(create_graph):
        for y, g in zip(outputs, grad_outputs):
            g = _initial_grad(y, g)
            grads[id(y)] = grads[id(y)] + g if id(y) in grads else g
        # A root that is itself a leaf or a wanted input.
        for y in outputs:
            if id(y) in wanted:
                results[wanted[id(y)]] = grads[id(y)]
            elif inputs is None and y.is_leaf:
                y.grad = grads[id(y)] if y.grad is None else y.grad + grads[id(y)]

        for f in _topological_order(outputs):
            gys = []
            for ref in f._outputs:
                y = ref()
                gys.append(None if y is None else grads.pop(id(y), None))
            if all(gy is None for gy in gys):
                continue  # no gradient reaches this function
            if len(gys) > 1:  # an unused output of a multi-output function: zero gradient
                gys = [gy if gy is not None else Tensor(backend.get_array_module(ref().data).zeros_like(ref().data))
                       for gy, ref in zip(gys, f._outputs)]
            gxs = f.backward(*gys)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for x, gx, need in zip(f.inputs, gxs, f.needs_input_grad):
                if gx is None or not need:
                    continue
                if gx.shape != x.shape:  # a bug in an op, not a user error
                    raise RuntimeError(
                        f"{type(f).__name__}.backward returned a gradient of shape {gx.shape} "
                        f"for an input of shape {x.shape}."
                    )
                key = id(x)
                if key in wanted:
                    i = wanted[key]
                    results[i] = gx if results[i] is None else results[i] + gx
                if x.creator is not None:
                    grads[key] = grads[key] + gx if key in grads else gx
                elif inputs is None:
                    x.grad = gx if x.grad is None else x.grad + gx
    return results if inputs is not None else None


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = True,
) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs), returned rather than stored in ``.grad`` (as ``torch.autograd.grad``).

    ``grad_outputs`` weights each output (defaults to ones for one-value outputs).
    With ``create_graph=True`` the returned gradients carry a graph of their own, so
    a function of them (a gradient penalty ``(||dD/dx|| - 1)**2``) can be
    backpropagated again. An input that the outputs do not depend on gets None.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gouts: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, (Tensor,)) or _is_array(grad_outputs):
        gouts = [grad_outputs]
    else:
        gouts = list(grad_outputs)
    if len(gouts) != len(outs):
        raise ValueError(f"grad(): {len(outs)} outputs but {len(gouts)} grad_outputs.")
    results = _backward(outs, gouts, create_graph=create_graph, inputs=ins)
    if not allow_unused and any(r is None for r in results):
        i = next(i for i, r in enumerate(results) if r is None)
        raise RuntimeError(f"grad(): input {i} was not used to compute the outputs.")
    return tuple(results)


# ops.py imports Function and Tensor from this module, so it is imported last.
from minigan import ops as _ops  # noqa: E402
