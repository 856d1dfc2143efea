"""Loss functions, each beside its gradient derived by hand: ``bce``, ``bce_with_logits``, ``mse``, ``cross_entropy``.

Every loss returns a scalar Tensor: the mean over all elements (for a batch of (N, 1)
outputs, the mean over the batch; for ``cross_entropy``, over the N rows). It is built from
differentiable ops, so ``loss.backward()`` works and so do second derivatives
(``create_graph=True``).

Beside each loss, ``<name>_grad`` computes d(loss)/d(input) with plain array math, the way
the lessons derive it on the board. The tests hold the by-hand gradient, autograd's and
central differences equal.

The losses on *logits* l (before the sigmoid, p = sigma(l)) turn every log of a probability
into a stable softplus with two identities:

    -log sigma(l)       = softplus(-l)
    -log(1 - sigma(l))  = softplus(l)

where softplus(l) = log(1 + e^l) never overflows (see ``minigan.softplus``).

``loss_inputs``, ``loss_arrays`` and ``sigmoid_array`` are the checks and the one array
function every loss needs; the GAN losses (``minigan.gan.losses``) use them too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import Tensor, as_tensor, astype, clip, log, mean, softplus
from minigan.functional import log_softmax, one_hot

__all__ = [
    "BCE_EPS",
    "bce",
    "bce_grad",
    "bce_with_logits",
    "bce_with_logits_grad",
    "mse",
    "mse_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "loss_inputs",
    "loss_arrays",
    "sigmoid_array",
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


def loss_inputs(name: str, what: str, x: Any, y: Any) -> tuple[Tensor, Tensor | float]:
    """A loss's two arguments, checked: x as a float Tensor; y as a Python number, or a Tensor of
    x's dtype whose shape broadcasts *to* x's (never widens it).

    ``name`` (the loss) and ``what`` (e.g. "logits") name the culprit in the one-sentence errors.
    A Python float target stays a number: NumPy 2 then keeps float32 inputs float32.
    """
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


def loss_arrays(name: str, what: str, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """``(xp, x, y)`` as raw arrays for a by-hand gradient, with the same checks as ``loss_inputs``.

    x and y may be Tensors or arrays; xp is NumPy or CuPy, whichever holds them; y is a Python
    number or an array of x's dtype.
    """
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


def sigmoid_array(xp: Any, x: Any) -> Any:
    """sigma(x) = 1 / (1 + e^-x) on a raw array, written as (1 + tanh(x/2)) / 2: the same value, no overflow."""
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
    p, y = loss_inputs("bce", "probabilities", p, y)
    # BEGIN EXERCISE bce (10 points): binary cross-entropy on probabilities and on logits, with its gradient by hand
    # HINT: use the differentiable ops imported above (clip, log, mean), so that backward() works.
    # HINT: clamp p to [eps, 1 - eps] first: log(0) would give -inf.
    p = clip(p, eps, 1.0 - eps)
    return -mean(y * log(p) + (1.0 - y) * log(1.0 - p))
    # END EXERCISE


def bce_grad(p: Any, y: Any, eps: float = BCE_EPS) -> Any:
    """d bce / d p by hand, an array of p's shape: the gradient of ``bce(p, y, eps)``, clamp and mean included."""
    xp, p, y = loss_arrays("bce_grad", "probabilities", p, y)
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
    logits, y = loss_inputs("bce_with_logits", "logits", logits, y)
    # BEGIN EXERCISE bce (10 points): binary cross-entropy on probabilities and on logits, with its gradient by hand
    # HINT: never take sigmoid then log: softplus (imported above) is log(1 + e^l) computed stably.
    # -log sigma(l) = softplus(-l) and -log(1 - sigma(l)) = softplus(l), and softplus(-l) = softplus(l) - l,
    # so the loss is mean(softplus(l) - l y); softplus computes max(l, 0) + log(1 + e^-|l|).
    return mean(softplus(logits) - logits * y)
    # END EXERCISE


def bce_with_logits_grad(logits: Any, y: Any) -> Any:
    """d bce_with_logits / d l by hand, an array of the logits' shape (the gradient of the mean)."""
    xp, logits, y = loss_arrays("bce_with_logits_grad", "logits", logits, y)
    # BEGIN EXERCISE bce (10 points): binary cross-entropy on probabilities and on logits, with its gradient by hand
    # HINT: sigmoid_array(xp, a) is sigma on a raw array.
    # d/dl [softplus(l) - l y] = sigma(l) - y (softplus' = sigma), over N for the mean; the same as the chain
    # rule through p = sigma(l): (p - y)/(p(1 - p)) * p(1 - p).
    return (sigmoid_array(xp, logits) - y) / logits.size
    # END EXERCISE


# --------------------------------------------------------------------------- mean squared error


def mse(a: Tensor, b: Tensor | float) -> Tensor:
    """Mean squared error: mean( (a - b)^2 ).

    a: any shape (the prediction); b: a number or an array that broadcasts to a's shape -> scalar.
    """
    a, b = loss_inputs("mse", "predictions", a, b)
    d = a - b
    return mean(d * d)


def mse_grad(a: Any, b: Any) -> Any:
    """d mse / d a by hand, an array of a's shape.

        d/da (a - b)^2 = 2 (a - b),   so the gradient of the mean is 2 (a - b) / N, N = a.size.

    (With respect to b it is the negative of this.)
    """
    _, a, b = loss_arrays("mse_grad", "predictions", a, b)
    return 2.0 * (a - b) / a.size


# --------------------------------------------------------------------------- cross-entropy over K classes


def _check_labels(name: str, logits_shape: tuple[int, ...], labels: Any) -> Any:
    """The raw integer labels (N,) that go with (N, K) logits, or one clear sentence."""
    y = _array(labels)
    if tuple(getattr(y, "shape", ())) != tuple(logits_shape[:1]):
        raise ValueError(f"{name}: {logits_shape[0]} rows of logits but labels of shape "
                         f"{tuple(getattr(y, 'shape', ()))}: give one integer label per row.")
    return y


def cross_entropy(logits: Tensor, labels: Any) -> Tensor:
    """Cross-entropy of K-class logits s against integer labels y, averaged over the batch.

        loss = -1/N sum_n log softmax(s_n)[y_n] = 1/N sum_n ( log sum_k e^(s_nk) - s_n,y_n )

    (``torch.nn.functional.cross_entropy``). The label's entry is picked by a product with
    one_hot(y), so the backward is a product too. logits: (N, K) float Tensor; labels: (N,) ints
    in [0, K) (an array or a Tensor) -> scalar.
    """
    if not isinstance(logits, Tensor) or logits.ndim != 2:
        got = getattr(logits, "shape", type(logits).__name__)
        raise ValueError(f"cross_entropy expects logits of shape (N, K) as a Tensor, got {got}.")
    _check_float("cross_entropy", "logits", logits.dtype)
    y = _check_labels("cross_entropy", logits.shape, labels)
    return -(log_softmax(logits) * one_hot(y, logits.shape[1], dtype=logits.dtype, like=logits)).sum(axis=1).mean()


def cross_entropy_grad(logits: Any, labels: Any) -> Any:
    """d cross_entropy / d s by hand, an array (N, K):

        d/ds_nk [log sum_j e^(s_nj) - s_n,y_n] = softmax(s_n)_k - [k = y_n],   over N for the mean.
    """
    s = _array(logits)
    if getattr(s, "ndim", 0) != 2:
        raise ValueError(f"cross_entropy_grad expects logits of shape (N, K), got {getattr(s, 'shape', s)}.")
    _check_float("cross_entropy_grad", "logits", s.dtype)
    y = _check_labels("cross_entropy_grad", s.shape, labels)
    xp = backend.get_array_module(s)
    e = xp.exp(s - s.max(axis=1, keepdims=True))  # the shift cancels in the ratio and keeps e^s finite
    p = e / e.sum(axis=1, keepdims=True)
    return (p - one_hot(y, s.shape[1], dtype=s.dtype, like=s).data) / s.shape[0]
