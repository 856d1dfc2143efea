"""Loss functions, each beside its gradient derived by hand.

Every loss returns a scalar Tensor: the mean over all elements (for D's (N, 1)
output, the mean over the batch). It is built from differentiable ops, so
``loss.backward()`` works and so do second derivatives (``create_graph=True``).

Beside each loss, ``<name>_grad`` computes d(loss)/d(input) with plain array
math, the way lesson 5 derives it on the board. The tests hold the by-hand
gradient, autograd's and central differences equal.

The GAN losses take D's *logits* l (before the sigmoid), with D(x) = sigma(l).
Two identities turn every log of a probability into a stable softplus:

    -log sigma(l)       = softplus(-l)        (-log D)
    -log(1 - sigma(l))  = softplus(l)         (-log(1 - D))

where softplus(l) = log(1 + e^l) never overflows (see ``ops.softplus``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import Tensor, as_tensor, astype, clip, log, mean, softplus

__all__ = [
    "BCE_EPS",
    "bce",
    "bce_grad",
    "bce_with_logits",
    "bce_with_logits_grad",
    "mse",
    "mse_grad",
    "d_loss",
    "d_loss_grad",
    "g_loss_minimax",
    "g_loss_minimax_grad",
    "g_loss_nonsaturating",
    "g_loss_nonsaturating_grad",
]

# Probabilities are clamped to [BCE_EPS, 1 - BCE_EPS] before the log. 1e-7 is just
# above float32's spacing just below 1 (2^-24 ~ 6e-8), so 1 - BCE_EPS is still < 1 in
# float32; the largest loss one element can then give is -log(1e-7) ~ 16.1.
BCE_EPS = 1e-7


# --------------------------------------------------------------------------- input checks


def _check_float(name: str, what: str, dtype: Any) -> None:
    if np.dtype(dtype).kind != "f":
        raise TypeError(
            f"{name}: the {what} are {dtype}, not floating point: convert them with x.astype('float32')."
        )


def _check_shapes(name: str, what: str, x_shape: tuple[int, ...], y_shape: tuple[int, ...]) -> None:
    """The targets must broadcast *to* the input's shape, never widen it.

    (N, 1) logits with (N,) targets would broadcast to (N, N) and silently average
    N^2 wrong terms: the classic bug this check exists for.
    """
    try:
        ok = np.broadcast_shapes(tuple(x_shape), tuple(y_shape)) == tuple(x_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name}: the {what} have shape {tuple(x_shape)} but the targets have shape {tuple(y_shape)}; "
            f"give the targets the same shape, e.g. y.reshape{tuple(x_shape)}."
        )


def _pair(name: str, what: str, x: Any, y: Any) -> tuple[Tensor, Tensor | float]:
    """x as a float Tensor; y as a Python number, or a Tensor of x's dtype that broadcasts to x."""
    x = as_tensor(x)
    _check_float(name, what, x.dtype)
    if isinstance(y, (int, float)):
        return x, float(y)  # a Python float stays "weak": float32 stays float32
    y = as_tensor(y, like=x)
    _check_shapes(name, what, x.shape, y.shape)
    if y.dtype != x.dtype:
        y = astype(y, x.dtype)  # e.g. integer 0/1 labels, or float64 targets with float32 logits
    return x, y


def _array(x: Any) -> Any:
    """The raw NumPy/CuPy array behind a Tensor (or the array itself)."""
    return x.data if isinstance(x, Tensor) else x


def _array_pair(name: str, what: str, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """(xp, x, y) as arrays for the by-hand gradients, with the same checks as the losses."""
    x = _array(x)
    if not hasattr(x, "shape"):  # a list or a number
        x = np.asarray(x)
    _check_float(name, what, x.dtype)
    if isinstance(y, (int, float)):
        return backend.get_array_module(x), x, float(y)
    y = _array(y)
    xp = backend.get_array_module(x, y)
    y = xp.asarray(y)
    _check_shapes(name, what, x.shape, y.shape)
    return xp, x, y.astype(x.dtype, copy=False)


def _sigmoid(xp: Any, x: Any) -> Any:
    """sigma(x) = 1 / (1 + e^-x), written as (1 + tanh(x/2)) / 2: the same value, no overflow."""
    return xp.tanh(x * 0.5) * 0.5 + 0.5


# --------------------------------------------------------------------------- BCE on probabilities


def bce(p: Tensor, y: Tensor | float, eps: float = BCE_EPS) -> Tensor:
    """Binary cross-entropy of probabilities p against targets y in [0, 1].

        loss = -mean( y log p + (1 - y) log(1 - p) )

    p is first clamped to [eps, 1 - eps] (eps = 1e-7 by default), so p = 0 or 1
    gives a large finite loss (at most ~16 per element) instead of log(0) = -inf;
    where p was clamped the gradient is 0. Prefer ``bce_with_logits``: it needs no clamp.
    p: any shape; y: a number or an array that broadcasts to p's shape -> scalar.
    """
    p, y = _pair("bce", "probabilities", p, y)
    # BEGIN EXERCISE bce (10 points): binary cross-entropy on probabilities and on logits, with its gradient by hand
    # HINT: use the differentiable ops imported above (clip, log, mean), so that backward() works.
    # HINT: clamp p to [eps, 1 - eps] first: log(0) would give -inf.
    p = clip(p, eps, 1.0 - eps)
    return -mean(y * log(p) + (1.0 - y) * log(1.0 - p))
    # END EXERCISE


def bce_grad(p: Any, y: Any, eps: float = BCE_EPS) -> Any:
    """d bce / d p by hand, an array of p's shape: the gradient of ``bce(p, y, eps)``, clamp and mean included."""
    xp, p, y = _array_pair("bce_grad", "probabilities", p, y)
    # BEGIN EXERCISE bce (10 points): binary cross-entropy on probabilities and on logits, with its gradient by hand
    # HINT: plain array math here (xp is NumPy or CuPy): no Tensors, no autograd.
    # HINT: evaluate at the clamped p, and multiply by a 0/1 mask of where p was inside
    #   [eps, 1 - eps]: the clamp passes no gradient outside.
    # d/dp [-(y log p + (1 - y) log(1 - p))] = -y/p + (1 - y)/(1 - p) = (p - y) / (p (1 - p)), over N for the mean.
    inside = (p >= eps) & (p <= 1.0 - eps)  # the clamp passes no gradient outside
    pc = xp.clip(p, eps, 1.0 - eps)
    g = (pc - y) / (pc * (1.0 - pc)) / p.size
    return g * inside.astype(p.dtype)
    # END EXERCISE


# --------------------------------------------------------------------------- BCE on logits


def bce_with_logits(logits: Tensor, y: Tensor | float) -> Tensor:
    """Binary cross-entropy on logits l, with p = sigma(l), computed stably.

        loss = mean H(sigma(l), y) = mean( -y log sigma(l) - (1 - y) log(1 - sigma(l)) )

    computed without ever taking e to a large power, so l = +-100 in float32 is exact.
    logits: any shape; y: a number (1.0 or 0.0) or an array that broadcasts to it -> scalar.
    """
    logits, y = _pair("bce_with_logits", "logits", logits, y)
    # BEGIN EXERCISE bce (10 points): binary cross-entropy on probabilities and on logits, with its gradient by hand
    # HINT: never take sigmoid then log: softplus (imported above) is log(1 + e^l) computed stably.
    # -log sigma(l) = softplus(-l) and -log(1 - sigma(l)) = softplus(l), and softplus(-l) = softplus(l) - l,
    # so the loss is mean(softplus(l) - l y); softplus computes max(l, 0) + log(1 + e^-|l|).
    return mean(softplus(logits) - logits * y)
    # END EXERCISE


def bce_with_logits_grad(logits: Any, y: Any) -> Any:
    """d bce_with_logits / d l by hand, an array of the logits' shape (the gradient of the mean)."""
    xp, logits, y = _array_pair("bce_with_logits_grad", "logits", logits, y)
    # BEGIN EXERCISE bce (10 points): binary cross-entropy on probabilities and on logits, with its gradient by hand
    # HINT: _sigmoid(xp, a) is sigma on a raw array.
    # d/dl [softplus(l) - l y] = sigma(l) - y (softplus' = sigma), over N for the mean; the same as the chain
    # rule through p = sigma(l): (p - y)/(p(1 - p)) * p(1 - p).
    return (_sigmoid(xp, logits) - y) / logits.size
    # END EXERCISE


# --------------------------------------------------------------------------- mean squared error


def mse(a: Tensor, b: Tensor | float) -> Tensor:
    """Mean squared error: mean( (a - b)^2 ).

    a: any shape (the prediction); b: a number or an array that broadcasts to a's shape -> scalar.
    """
    a, b = _pair("mse", "predictions", a, b)
    d = a - b
    return mean(d * d)


def mse_grad(a: Any, b: Any) -> Any:
    """d mse / d a by hand, an array of a's shape.

        d/da (a - b)^2 = 2 (a - b),   so the gradient of the mean is 2 (a - b) / N, N = a.size.

    (With respect to b it is the negative of this.)
    """
    _, a, b = _array_pair("mse_grad", "predictions", a, b)
    return 2.0 * (a - b) / a.size


# --------------------------------------------------------------------------- GAN losses on D's logits


def d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The discriminator's loss: BCE with target 1 on real, target 0 on fake.

    D maximises  V = E_x~p_data[log D(x)] + E_z~p_z[log(1 - D(G(z)))],  so it minimises -V:

        d_loss = -mean log sigma(r) - mean log(1 - sigma(f))
               = mean softplus(-r) + mean softplus(f)

    r = D's logits on real x, f = D's logits on fakes G(z); the two batches may differ in size.
    real_logits: (N_r, ...), fake_logits: (N_f, ...) -> scalar.
    """
    real_logits, _ = _pair("d_loss", "real logits", real_logits, 1.0)
    fake_logits, _ = _pair("d_loss", "fake logits", fake_logits, 0.0)
    return mean(softplus(-real_logits)) + mean(softplus(fake_logits))


def d_loss_grad(real_logits: Any, fake_logits: Any) -> tuple[Any, Any]:
    """(d d_loss / d r, d d_loss / d f) by hand, arrays of the two logits' shapes."""
    xp, r, _ = _array_pair("d_loss_grad", "real logits", real_logits, 1.0)
    xp, f, _ = _array_pair("d_loss_grad", "fake logits", fake_logits, 0.0)
    # BEGIN EXERCISE minimax-grad (10 points): the gradients of the GAN losses on D's logits, by hand
    # HINT: softplus' = sigma, and _sigmoid(xp, a) is sigma on a raw array.
    # HINT: each mean divides by its own batch: r.size for the real term, f.size for the fake one.
    # d/dr softplus(-r) = -sigma(-r) = sigma(r) - 1 and d/df softplus(f) = sigma(f): D pushes real logits up
    # (g_real < 0) and fake logits down (g_fake > 0).
    return (_sigmoid(xp, r) - 1.0) / r.size, _sigmoid(xp, f) / f.size
    # END EXERCISE


def g_loss_minimax(fake_logits: Tensor) -> Tensor:
    """The generator's loss in the original minimax game (saturating).

    G minimises the part of V it controls:

        g_loss = mean log(1 - D(G(z))) = mean log(1 - sigma(f)) = -mean softplus(f)

    Early in training D spots fakes easily (f << 0), where this is flat: see
    ``g_loss_minimax_grad``. fake_logits: (N, ...) -> scalar.
    """
    fake_logits, _ = _pair("g_loss_minimax", "fake logits", fake_logits, 0.0)
    return -mean(softplus(fake_logits))


def g_loss_minimax_grad(fake_logits: Any) -> Any:
    """d g_loss_minimax / d f by hand, an array of f's shape.

    Where D is sure the fake is fake (f << 0) this gradient is tiny: G barely learns exactly
    when it is worst. That is the saturation the non-saturating loss fixes.
    """
    xp, f, _ = _array_pair("g_loss_minimax_grad", "fake logits", fake_logits, 0.0)
    # BEGIN EXERCISE minimax-grad (10 points): the gradients of the GAN losses on D's logits, by hand
    # HINT: g_loss_minimax = -mean softplus(f); differentiate softplus and divide by N = f.size.
    # d/df [-softplus(f)] = -sigma(f); at f = -6, |grad| = sigma(-6)/N ~ 0.0025/N.
    return -_sigmoid(xp, f) / f.size
    # END EXERCISE


def g_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    """The generator's non-saturating loss: maximise log D(G(z)) instead of minimising log(1 - D(G(z))).

        g_loss = -mean log D(G(z)) = -mean log sigma(f) = mean softplus(-f)

    Same fixed point as the minimax loss, but steep where D rejects the fakes.
    fake_logits: (N, ...) -> scalar.
    """
    fake_logits, _ = _pair("g_loss_nonsaturating", "fake logits", fake_logits, 1.0)
    return mean(softplus(-fake_logits))


def g_loss_nonsaturating_grad(fake_logits: Any) -> Any:
    """d g_loss_nonsaturating / d f by hand, an array of f's shape; steep where D rejects the fakes (f << 0)."""
    xp, f, _ = _array_pair("g_loss_nonsaturating_grad", "fake logits", fake_logits, 1.0)
    # BEGIN EXERCISE minimax-grad (10 points): the gradients of the GAN losses on D's logits, by hand
    # HINT: g_loss_nonsaturating = mean softplus(-f): the chain rule gives a minus sign, and
    #   sigma(-f) = 1 - sigma(f).
    # d/df softplus(-f) = -sigma(-f) = sigma(f) - 1; at f = -6, |grad| ~ 1/N, about e^6 ~ 400 times the minimax one.
    return (_sigmoid(xp, f) - 1.0) / f.size
    # END EXERCISE
