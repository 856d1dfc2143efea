"""The engine: grad mode, the reverse topological order, the chain rule, ``grad``.

- grad mode: while ``_grad_enabled`` is True, ``Function.__call__`` records each op on
  tensors that require a gradient; ``no_grad()`` turns that off.
- ``_topological_order``: the recorded functions behind the outputs, every consumer
  before its producers.
- ``_backward``: the chain rule in that order. Each function's ``backward`` runs once,
  with every gradient flowing into its outputs already summed, and its input gradients
  are added into the functions below (or into the leaves' ``.grad``).
- ``grad``: the same pass, returning d(outputs)/d(inputs) instead of filling ``.grad``.
  ``y.backward()`` and ``minigan.grad(y, x)`` both land in ``_backward``; with
  ``create_graph=True`` the pass is itself recorded, so its results can be
  differentiated again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from minigan import backend
from minigan.autograd.tensor import Tensor, _is_array, as_tensor

if TYPE_CHECKING:
    from minigan.autograd.function import Function

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

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:  # used as a decorator
        mode = self.mode

        def wrapper(*args: Any, **kwargs: Any) -> Any:
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
    """dL/dy to start from: ``g`` checked against y, or 1 when y holds one value."""
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
    """The chain rule over the graph behind ``outputs``, seeded with ``grad_outputs``.

    With ``inputs`` None, adds into every leaf's ``.grad`` (``y.backward()``); otherwise
    returns d(outputs)/d(inputs) and touches no ``.grad`` (``grad``).
    """
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

    with set_grad_enabled(create_graph):  # records the backward pass only for create_graph
        # Seed: dL/dy for each output.
        for y, g in zip(outputs, grad_outputs):
            g = _initial_grad(y, g)
            grads[id(y)] = grads[id(y)] + g if id(y) in grads else g
        # A root that is itself a leaf or a wanted input.
        for y in outputs:
            if id(y) in wanted:
                results[wanted[id(y)]] = grads[id(y)]
            elif inputs is None and y.is_leaf:
                y.grad = grads[id(y)] if y.grad is None else y.grad + grads[id(y)]

        # Consumers before producers: f's gy is complete when f is reached.
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
            gxs = f.backward(*gys)  # one gx per input, None where none is needed (Function's rule)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            # Deliver each gx: to a wanted input's result, to its producer's gy, or to a leaf's .grad.
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
