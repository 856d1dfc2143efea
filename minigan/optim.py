"""Optimizers with PyTorch's names and update rules: SGD, Adam, RMSprop.

An optimizer holds the parameter Tensors of a model and, after ``backward()`` has
filled their ``.grad``, moves each one a step downhill::

    opt = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad()
    loss.backward()
    opt.step()

The update is plain array math on ``p.data``, done in place. Two reasons:

* The optimizer holds the very Tensor objects the model holds, so writing into
  ``p.data`` is what changes the model; and writing into the existing array
  (``p.data -= ...`` rather than ``p.data = p.data - ...``) keeps every other
  reference to that array in step and allocates nothing per step on the GPU.
* Going around the Tensor ops records no graph: an update is not part of the
  model's computation, and the next ``backward()`` must not reach through it.
  (So do not call ``step()`` between a forward pass and its ``backward()``: the
  graph kept the arrays and would see the new values.)

Hyperparameters are kept as Python floats and the state arrays in the parameter's
dtype, so float32 parameters stay float32: a NumPy float64 *scalar* would promote
a float32 array to float64 under NumPy 2, a Python float never does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import Tensor
from minigan.autograd import sqrt as tensor_sqrt

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "adam_update", "TENSOR_MATH"]


class Optimizer:
    """The base class: holds the parameters, their per-parameter state and the hyperparameters.

    Subclasses pass their hyperparameters as keyword ``defaults`` (each becomes an
    attribute, e.g. ``opt.lr``, which may be changed between steps) and define
    ``_update(p, g, state)``, the rule for one parameter with gradient array g.
    """

    def __init__(self, params: Iterable[Tensor], **defaults: Any) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "The optimizer got a single Tensor, but it takes an iterable of them: pass [w] or model.parameters()."
            )
        try:
            self.params: list[Tensor] = list(params)
        except TypeError:
            raise TypeError(
                f"The optimizer takes an iterable of Tensors, got a {type(params).__name__}: "
                "pass model.parameters() or a list of tensors."
            ) from None
        if not self.params:
            raise ValueError(
                "The optimizer got an empty list of parameters: pass model.parameters() of a model that has "
                "layers (a generator like parameters() is used up after one pass; call it again)."
            )
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"Parameter {i} given to the optimizer is a {type(p).__name__}, not a Tensor: pass "
                    "model.parameters() (one optimizer per group of parameters; groups as dicts are not supported)."
                )
            if id(p) in seen:
                raise ValueError(
                    f"Parameter {i} appears twice in the optimizer's list, so it would be updated twice per "
                    "step: pass each parameter once."
                )
            seen.add(id(p))
        self.defaults = dict(defaults)
        for name, value in defaults.items():
            setattr(self, name, value)
        # One dict per parameter, in the order of self.params (filled on the first step).
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (or zeros with ``set_to_none=False``).

        backward() *adds* into ``.grad``, so call this before each backward pass.
        """
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(backend.get_array_module(p.data).zeros_like(p.data))

    def step(self) -> None:
        """Update every parameter that has a gradient; those whose ``.grad`` is None are left untouched."""
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad.data  # the raw array: nothing here is recorded in a graph
            if g.shape != p.data.shape:
                raise ValueError(
                    f"A gradient of shape {g.shape} was set for a parameter of shape {p.shape}: "
                    "p.grad must have the parameter's shape (let backward() fill it)."
                )
            self._update(p, g, state)

    def _update(self, p: Tensor, g: Any, state: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define _update()")

    # ---- saving and restoring (checkpoints)

    def hyperparameters(self) -> dict[str, Any]:
        """The current hyperparameters by name, e.g. {'lr': 0.001, 'betas': (0.9, 0.999), ...}."""
        return {name: getattr(self, name) for name in self.defaults}

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer: plain Python numbers and host NumPy arrays (copies).

        {'type': 'Adam', 'hyperparameters': {...}, 'param_shapes': [shape, ...],
         'state': [{'step': 3, 'exp_avg': ndarray, ...}, ...]}  (one state dict per parameter)
        """
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "param_shapes": [tuple(p.shape) for p in self.params],
            "state": [
                {k: np.array(backend.to_numpy(v)) if _is_array(v) else v for k, v in s.items()} for s in self.state
            ],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: hyperparameters, step counts and state arrays.

        The arrays go to each parameter's backend and dtype. The saved optimizer must be
        of the same type, with the same number of parameters of the same shapes.
        """
        name = type(self).__name__
        missing = [k for k in ("hyperparameters", "param_shapes", "state") if k not in state_dict]
        if missing or len(state_dict["state"]) != len(state_dict["param_shapes"]):
            raise ValueError(
                f"This is not a whole optimizer state_dict (missing {missing or 'per-parameter state'}): "
                "pass what optimizer.state_dict() returned."
            )
        saved_type = state_dict.get("type", name)
        if saved_type != name:
            raise ValueError(
                f"This state_dict is from a {saved_type} optimizer; load it into a {saved_type}, not {name}."
            )
        shapes = [tuple(s) for s in state_dict["param_shapes"]]
        if len(shapes) != len(self.params):
            raise ValueError(
                f"The state_dict holds {len(shapes)} parameters but this {name} has {len(self.params)}: "
                "build the optimizer over the same model as the one that was saved."
            )
        for i, (p, shape) in enumerate(zip(self.params, shapes)):
            if tuple(p.shape) != shape:
                raise ValueError(
                    f"Parameter {i} has shape {tuple(p.shape)} here but {shape} in the state_dict: "
                    "build the optimizer over the same model as the one that was saved."
                )
        saved_states = state_dict["state"]
        for i, (p, s) in enumerate(zip(self.params, saved_states)):
            for k, v in s.items():
                if _is_array(v) and tuple(v.shape) != tuple(p.shape):
                    raise ValueError(
                        f"The state_dict's {k!r} for parameter {i} has shape {tuple(v.shape)}, not the "
                        f"parameter's {tuple(p.shape)}: the state_dict is corrupt or from another model."
                    )
        # All checked: now change things, so a failed load leaves the optimizer as it was.
        for key, value in state_dict["hyperparameters"].items():
            if key in self.defaults:
                # Python floats again (a checkpoint may hold lists and NumPy scalars).
                setattr(self, key, tuple(float(b) for b in value) if isinstance(value, (list, tuple)) else float(value))
        for i, (p, s) in enumerate(zip(self.params, saved_states)):
            xp = backend.get_array_module(p.data)
            self.state[i] = {
                k: xp.array(v, dtype=p.data.dtype) if _is_array(v) else v for k, v in s.items()
            }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {args})"


def _is_array(v: Any) -> bool:
    return hasattr(v, "shape") and hasattr(v, "dtype")


def _check(name: str, value: float, low: float, high: float | None = None) -> float:
    """A hyperparameter as a Python float (never a NumPy scalar), checked to lie in [low, high)."""
    value = float(value)
    if value < low or (high is not None and value >= high):
        where = f"at least {low}" if high is None else f"in [{low}, {high})"
        raise ValueError(f"The optimizer's {name} must be {where}, got {value}.")
    return value


# --------------------------------------------------------------------------- SGD


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (as ``torch.optim.SGD``).

        g   = grad + weight_decay * p
        buf = g                      on the first step
        buf = momentum * buf + g     after that          (only when momentum > 0)
        p   = p - lr * buf           (p - lr * g without momentum)
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(
            params,
            lr=_check("lr", lr, 0.0),
            momentum=_check("momentum", momentum, 0.0),
            weight_decay=_check("weight_decay", weight_decay, 0.0),
        )

    def _update(self, p: Tensor, g: Any, state: dict[str, Any]) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p.data  # a new array: p.grad itself is never changed
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                # A copy: buf is scaled in place later and must not alias p.grad.
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += g
            g = buf
        p.data -= self.lr * g


# --------------------------------------------------------------------------- Adam


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with PyTorch's bias correction (``torch.optim.Adam``).

        g     = grad + weight_decay * p                 (L2 penalty, not AdamW)
        m     = beta1 m + (1 - beta1) g                 (m, v start at 0; t counts steps from 1)
        v     = beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - beta1^t),   v_hat = v / (1 - beta2^t)
        p     = p - lr * m_hat / (sqrt(v_hat) + eps)

    The bias correction undoes the pull toward the zero start. With a constant gradient g,
    after t steps m = (1 - beta1^t) g and v = (1 - beta2^t) g^2: both too small, and dividing
    by (1 - beta^t) gives back m_hat = g, v_hat = g^2: every step is lr * sign(g) (eps aside).
    Uncorrected, the small m alone would shorten the steps, but v is shrunk far more (beta2 is
    closer to 1) and sits under the square root: the first step m / sqrt(v) is
    (1 - beta1) / sqrt(1 - beta2) * sign(g), that many times too *long*: 3.2x at the default
    betas (0.9, 0.999), 15.8x at DCGAN's (0.5, 0.999). The excess, (1 - beta1^t) / sqrt(1 - beta2^t),
    fades only over about 1 / (1 - beta2) = 1000 steps: at the defaults it grows to 6.6x near t = 12
    and is still 1.26x at t = 1000.

    The step itself is ``adam_update``, which the unrolled GAN's look-ahead runs on Tensors.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if len(betas) != 2:
            raise ValueError(f"Adam's betas must be a pair (beta1, beta2), got {betas!r}.")
        super().__init__(
            params,
            lr=_check("lr", lr, 0.0),
            betas=(_check("beta1", betas[0], 0.0, 1.0), _check("beta2", betas[1], 0.0, 1.0)),
            eps=_check("eps", eps, 0.0),
            weight_decay=_check("weight_decay", weight_decay, 0.0),
        )

    def _update(self, p: Tensor, g: Any, state: dict[str, Any]) -> None:
        xp = backend.get_array_module(p.data, g)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)  # m
            state["exp_avg_sq"] = xp.zeros_like(p.data)  # v
        state["step"] += 1  # t counts steps from 1
        adam_update(xp, p.data, g, state["exp_avg"], state["exp_avg_sq"], state["step"],
                    self.lr, self.betas, self.eps, self.weight_decay)


class _TensorMath:
    """The array functions ``adam_update`` calls, for Tensors: each returns a new Tensor, recorded in
    the graph (``out`` is ignored: a Tensor is never written in place)."""

    @staticmethod
    def multiply(a: Any, b: Any, out: Any = None) -> Tensor:
        return a * b

    @staticmethod
    def divide(a: Any, b: Any, out: Any = None) -> Tensor:
        return a / b

    @staticmethod
    def sqrt(a: Tensor, out: Any = None) -> Tensor:
        return tensor_sqrt(a)


TENSOR_MATH = _TensorMath()  # ``xp`` for adam_update on Tensors: a differentiable step


def adam_update(xp: Any, p: Any, g: Any, m: Any, v: Any, t: int, lr: float, betas: tuple[float, float],
                eps: float, weight_decay: float = 0.0) -> tuple[Any, Any, Any]:
    """One Adam step of one parameter: the math of ``Adam``'s docstring, in the one place it is written.

    p: the parameter, g: its gradient, m and v: the two moments after step t - 1 (zeros, or the
    number 0.0, before the first step), t: this step's number, from 1; all of p's shape.
    Returns (p, m, v) after the step. The same lines run on two kinds of values, chosen by ``xp``:

    - arrays, with xp = NumPy or CuPy (``Adam.step``): p, m and v are updated *in place* (the
      model's weights and the optimizer's state), through one scratch array;
    - Tensors, with xp = ``TENSOR_MATH`` (the unrolled GAN's look-ahead): every line makes a new
      Tensor, recorded in the graph, so the new p is a differentiable function of g; nothing
      passed in changes.

    So the step is written with operators (an augmented one, ``a *= c``, writes into an array and
    rebinds a Tensor) and xp's functions with their result kept (``a = xp.sqrt(b, out=a)``).
    """
    beta1, beta2 = betas
    if weight_decay:
        g = g + weight_decay * p  # a new value: p.grad itself is never changed
    # BEGIN EXERCISE adam (10 points): one step of RMSprop and one of Adam, Adam's with bias correction
    # HINT: Adam's class docstring has the math; t already counts this step (from 1).
    # HINT: update m and v with augmented operators (m *= ...; m += ...): on arrays they write into the
    #   optimizer's state, which the next step and the checkpoints read; on Tensors they make new ones.
    # HINT: move p the same way (p -= ...), and return (p, m, v).
    # HINT: xp is NumPy, CuPy or TENSOR_MATH: besides the operators, call only xp.multiply, xp.divide
    #   and xp.sqrt, and keep what they return (a = xp.sqrt(b, out=a)), so that the unrolled GAN can
    #   differentiate your step.
    # HINT: keep the bias corrections Python floats, so float32 parameters stay float32.
    # Every line below writes into m, v, p or one scratch array ``tmp`` (out=...): on arrays the update
    # makes one temporary per parameter instead of seven, and each pass over memory is one NumPy call.
    # (This loop ran a seventh of the MLP iteration before.)
    tmp = xp.multiply(g, 1.0 - beta1)
    m *= beta1
    m += tmp  # m = beta1 m + (1 - beta1) g
    tmp = xp.multiply(g, g, out=tmp)
    tmp *= 1.0 - beta2
    v *= beta2
    v += tmp  # v = beta2 v + (1 - beta2) g^2
    # Python floats: (1 - beta^t) is a number, not an array, so float32 stays float32.
    bias_correction1 = 1.0 - beta1**t
    bias_correction2 = 1.0 - beta2**t
    tmp = xp.sqrt(v, out=tmp)
    tmp *= 1.0 / math.sqrt(bias_correction2)
    tmp += eps  # tmp = sqrt(v_hat) + eps
    tmp = xp.divide(m, tmp, out=tmp)
    tmp *= lr / bias_correction1
    p -= tmp  # p = p - lr m_hat / (sqrt(v_hat) + eps)
    return p, m, v
    # END EXERCISE


# --------------------------------------------------------------------------- RMSprop


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop`` (not centered).

        g   = grad + weight_decay * p
        v   = alpha v + (1 - alpha) g^2          (v starts at 0)
        p   = p - lr * g / (sqrt(v) + eps)                         without momentum
        buf = momentum buf + g / (sqrt(v) + eps);  p = p - lr buf    with momentum (buf starts at 0)

    WGAN (Arjovsky et al., 2017) trains its critic with RMSprop and lr = 5e-5.
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
    ) -> None:
        super().__init__(
            params,
            lr=_check("lr", lr, 0.0),
            alpha=_check("alpha", alpha, 0.0),
            eps=_check("eps", eps, 0.0),
            weight_decay=_check("weight_decay", weight_decay, 0.0),
            momentum=_check("momentum", momentum, 0.0),
        )

    def _update(self, p: Tensor, g: Any, state: dict[str, Any]) -> None:
        xp = backend.get_array_module(p.data, g)
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)  # v
        # BEGIN EXERCISE adam (10 points): one step of RMSprop and one of Adam, Adam's with bias correction
        # HINT: the class docstring has the math. Count the step in state["step"] (checkpoints keep it).
        # HINT: v is state["square_avg"]: update it in place, and create state["momentum_buffer"]
        #   (zeros, as PyTorch) the first time momentum needs it.
        state["step"] += 1
        v = state["square_avg"]
        v *= self.alpha
        v += (1.0 - self.alpha) * (g * g)
        avg = xp.sqrt(v) + self.eps
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = xp.zeros_like(p.data)  # PyTorch starts it at 0, not at g
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += g / avg
            p.data -= self.lr * buf
        else:
            p.data -= self.lr * g / avg
        # END EXERCISE
