"""``Function``: one differentiable operation, and the rule that records it."""

from __future__ import annotations

import weakref
from typing import Any

from minigan import backend
from minigan.autograd import engine
from minigan.autograd.tensor import Tensor, as_tensor

# What ``forward`` takes and returns: a raw NumPy or CuPy ndarray (whichever backend holds the
# data). ``Any``, because CuPy is optional and the two array types share no base class.
Array = Any

# --------------------------------------------------------------------------- Function


class Function:
    """One differentiable operation: ``forward`` on arrays, ``backward`` on Tensors.

    Symbols, as in the lessons: x (or a, b) the inputs, y the output, gy = dL/dy the
    gradient flowing in, gx (ga, gb) = dL/dx the gradients ``backward`` returns.

    - ``forward(*arrays) -> array`` (or a tuple of arrays) works on the raw arrays.
    - ``backward(gy) -> gx`` (one gradient per output in, one per input out) is written
      with differentiable Tensor ops only, so that ``create_graph=True`` can
      differentiate it again. ``self.inputs`` are the input Tensors and
      ``self.output(i)`` the i-th output Tensor.

    The gating rule, the same in every op: ``backward`` returns one gradient per input,
    and None for each input whose ``self.needs_input_grad[i]`` is False, spending no
    work on it (in ``x * W`` with W frozen, ``Mul`` never forms gy * x). The engine
    skips the Nones. An op with one input needs no gate: a call is recorded only when
    some input requires a gradient (``__call__`` below), and the engine calls
    ``backward`` only on recorded calls, so there its one input always needs one.
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
        if engine._grad_enabled and any(t.requires_grad for t in tensors):
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

    def forward(self, *arrays: Array) -> Array | tuple[Array, ...]:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *grad_outputs: Tensor) -> Tensor | tuple[Tensor | None, ...]:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define backward()")
