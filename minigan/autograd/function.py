"""``Function``: one differentiable operation, and the rule that records it."""

from __future__ import annotations

import weakref
from typing import Any

from minigan import backend
from minigan.autograd import engine
from minigan.autograd.tensor import Tensor, as_tensor

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

    def forward(self, *arrays: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def backward(self, *grad_outputs: Tensor) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define backward()")
