"""Numerical gradient checks: is the backward pass the derivative of the forward pass?

For a function f of tensors, take the scalar L = sum(f(inputs) * r) with a fixed
random r (so every output element matters), and compare, element by element,

    analytic:  dL/dx[k]  from minigan.grad (our backward pass)
    numerical: (L(x + eps e_k) - L(x - eps e_k)) / (2 eps)   (central differences)

in float64, where central differences are accurate to about eps^2. ``gradgradcheck``
does the same for the backward pass itself: it checks the gradient of
(inputs, v) -> grad(f(inputs), inputs, v, create_graph=True).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import Tensor, grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "numerical_grad"]


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def _as_outputs(y: Any) -> list[Tensor]:
    if isinstance(y, Tensor):
        return [y]
    return [t for t in y if isinstance(t, Tensor)]


def _check_inputs(inputs: Sequence[Tensor]) -> None:
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}, not a Tensor.")
        if x.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {x.dtype}; checks need float64 (float32 central differences are too "
                "noisy): make it with minigan.tensor(x, dtype='float64')."
            )


def _differentiable(inputs: Sequence[Tensor], who: str) -> list[Tensor]:
    """The inputs a check differentiates with respect to: those with requires_grad (at least one)."""
    wrt = [x for x in inputs if x.requires_grad]
    if not wrt:
        raise ValueError(f"{who}: no input requires a gradient; pass tensors made with requires_grad=True.")
    return wrt


def _projections(outputs: list[Tensor], seed: int) -> list[Any]:
    """Fixed random weights r for each output, so L = sum(y * r) exercises every element."""
    rng = np.random.default_rng(seed)
    rs = []
    for y in outputs:
        xp = backend.get_array_module(y.data)
        rs.append(xp.asarray(rng.standard_normal(y.shape)))
    return rs


def _scalar(f: Callable[..., Any], inputs: Sequence[Tensor], rs: list[Any]) -> float:
    total = 0.0
    for y, r in zip(_as_outputs(f(*inputs)), rs):
        total += float((y.data * r).sum())
    return total


def numerical_grad(
    f: Callable[..., Any], inputs: Sequence[Tensor], rs: list[Any], eps: float, wrt: Sequence[Tensor] | None = None
) -> list[np.ndarray]:
    """Central-difference gradient of L = sum(f(*inputs) * r) for every element of each tensor in
    ``wrt`` (default: all the inputs), as host arrays. f always gets all the inputs."""
    grads = []
    for x in inputs if wrt is None else wrt:
        if not x.data.flags.c_contiguous:
            x.data = backend.get_array_module(x.data).ascontiguousarray(x.data)
        g = np.zeros(x.shape)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        for k in range(flat.size):
            old = flat[k].item()
            flat[k] = old + eps
            plus = _scalar(f, inputs, rs)
            flat[k] = old - eps
            minus = _scalar(f, inputs, rs)
            flat[k] = old
            g.reshape(-1)[k] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def gradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check f's backward against central differences, for every input that requires grad.

    f takes the input tensors and returns a tensor (or a tuple of them). Inputs must be
    float64. On a mismatch raises GradcheckError naming the input, the worst element and
    both values (or returns False with ``raise_exception=False``).
    """
    inputs = list(inputs)
    _check_inputs(inputs)
    checked = _differentiable(inputs, "gradcheck")
    outputs = _as_outputs(f(*inputs))
    rs = _projections(outputs, seed)
    diff_outputs = [(y, r) for y, r in zip(outputs, rs) if y.requires_grad]
    if diff_outputs:
        analytic = grad(
            [y for y, _ in diff_outputs], checked, grad_outputs=[Tensor(r) for _, r in diff_outputs]
        )
    else:
        analytic = [None] * len(checked)
    numerical = numerical_grad(f, inputs, rs, eps, wrt=checked)
    for x, a, n in zip(checked, analytic, numerical):
        i = next(k for k, t in enumerate(inputs) if t is x)
        a_host = np.zeros(x.shape) if a is None else backend.to_numpy(a.data).astype(np.float64)
        err = np.abs(a_host - n) - (atol + rtol * np.abs(n))
        if err.size and err.max() > 0:
            worst = np.unravel_index(int(np.argmax(err)), err.shape)
            msg = (
                f"gradcheck failed for input {i} (shape {x.shape}): at index {tuple(int(w) for w in worst)} "
                f"the backward pass gives {a_host[worst]:.8g} but central differences give {n[worst]:.8g} "
                f"(atol={atol}, rtol={rtol}; {int((err > 0).sum())} of {err.size} elements off)."
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 1,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> grad(f(inputs), inputs, v, create_graph=True).

    v, the weights on f's outputs, is random and itself checked as an input, so both
    paths through the backward pass (through x and through the incoming gradient) are tested.
    """
    inputs = list(inputs)
    _check_inputs(inputs)
    _differentiable(inputs, "gradgradcheck")  # one clear sentence, not an error from deep inside backward
    outputs = _as_outputs(f(*inputs))
    rng = np.random.default_rng(seed)
    vs = []
    for y in outputs:
        xp = backend.get_array_module(y.data)
        vs.append(Tensor(xp.asarray(rng.standard_normal(y.shape)), requires_grad=True))
    n_in = len(inputs)

    def first_derivatives(*args: Tensor) -> tuple[Tensor, ...]:
        xs, v = list(args[:n_in]), list(args[n_in:])
        ys = _as_outputs(f(*xs))
        wrt = [x for x in xs if x.requires_grad]
        gs = grad(ys, wrt, grad_outputs=v, create_graph=True)
        # An input the gradient does not depend on (a piecewise-linear op) gives None: zero.
        return tuple(g if g is not None else Tensor(backend.get_array_module(x.data).zeros_like(x.data))
                     for g, x in zip(gs, wrt))

    return gradcheck(first_derivatives, inputs + vs, eps=eps, atol=atol, rtol=rtol, seed=seed + 1,
                     raise_exception=raise_exception)
