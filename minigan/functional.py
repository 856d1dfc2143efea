"""The layer functions, with PyTorch's names and argument order (``torch.nn.functional``).

The ``nn`` layers hold parameters and call these; a student can also call them
directly with their own weight tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd import (
    Function,
    Tensor,
    concat,
    is_grad_enabled,
    leaky_relu,
    matmul,
    mean,
    relu,
    reshape,
    sigmoid,
    softplus,
    stack,
    tanh,
)
from minigan.autograd import sum as _sum
from minigan.autograd.conv import conv2d, conv_transpose2d

__all__ = [
    "linear",
    "conv2d",
    "conv_transpose2d",
    "batch_norm",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softplus",
    "log_softmax",
    "dropout",
    "concat",
    "stack",
    "embedding",
    "one_hot",
]


class Linear(Function):
    """y = x W^T + b for x (N, in), W (out, in), b (out,); backward: (dL/dx, dL/dW, dL/db) from gy = dL/dy (N, out)."""

    def forward(self, x, weight, bias=None):
        y = x @ weight.T
        if bias is not None:
            y += bias
        return y

    def backward(self, gy):
        x, weight = self.inputs[:2]
        need = self.needs_input_grad
        # BEGIN EXERCISE linear-backward (10 points): the backward pass of a linear layer y = x W^T + b
        # HINT: gy is (N, out), x is (N, in), W is (out, in): let the shapes tell you each product.
        # HINT: use Tensor ops (matmul, .T, _sum), not raw arrays, so the backward can be differentiated again.
        # HINT: return one gradient per input, (gx, gw) without a bias, (gx, gw, gb) with one;
        #   None where need[i] is False saves the work.
        # dx = gy W, dW = gy^T x, db = the sum of gy over the batch.
        gx = matmul(gy, weight) if need[0] else None
        gw = matmul(gy.T, x) if need[1] else None
        if len(self.inputs) == 2:
            return gx, gw
        gb = _sum(gy, axis=0) if need[2] else None
        return gx, gw, gb
        # END EXERCISE


def _check_float_pair(name: str, x: Tensor, weight: Tensor) -> None:
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name} expects a floating-point input, got {x.dtype}: convert it with x.astype('float32')."
        )
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{name}: the input is {x.dtype} but the weight is {weight.dtype}: convert the input with "
            f"x.astype('{weight.dtype}')."
        )


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    _check_float_pair("linear", x, weight)
    if weight.ndim != 2:
        raise ValueError(f"linear expects a weight of shape (out, in), got {weight.shape}.")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: the input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) but the weight "
            f"(out, in) = {weight.shape} expects {weight.shape[1]}: check the layer's in_features "
            "or flatten the input first."
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"linear: the bias has shape {bias.shape}, expected ({weight.shape[0]},).")
    lead = x.shape[:-1]
    x2 = x if x.ndim == 2 else reshape(x, (-1, x.shape[-1]))
    y = Linear()(x2, weight) if bias is None else Linear()(x2, weight, bias)
    return y if x.ndim == 2 else reshape(y, lead + (weight.shape[0],))


def _sum_per_channel(a: Any, shape: tuple[int, ...]) -> Any:
    """The sum of ``a`` (N, C) or (N, C, H, W) over every axis but the channels, reshaped to ``shape``.

    When ``a`` is channels-last in memory (what the convolutions return), one channel's values
    are a column of an (N*H*W, C) matrix, and column sums are a matrix-vector product with a
    vector of ones: BLAS does it 3-4x faster than NumPy's reduction over strided axes.
    """
    xp = backend.get_array_module(a)
    rows = a.transpose(0, 2, 3, 1) if a.ndim == 4 else a  # (N, H, W, C): a view
    if rows.flags.c_contiguous:
        rows = rows.reshape(-1, a.shape[1])
        return (xp.ones(rows.shape[0], dtype=a.dtype) @ rows).reshape(shape)
    return a.sum(axis=(0,) if a.ndim == 2 else (0, 2, 3)).reshape(shape)


class BatchNormTrain(Function):
    """Training-mode batch norm as one function: y = (x - mu) / sqrt(var + eps) * gamma + beta.

    x (N, C) or (N, C, H, W); gamma, beta (C,); mu, var: mean and biased variance per channel
    over the m = N (or N*H*W) values of the channel. With x_hat = (x - mu) / sqrt(var + eps)::

        dL/dbeta  = sum(gy)                  dL/dgamma = sum(gy * x_hat)
        dL/dx     = gamma / sqrt(var + eps) * (gy - mean(gy) - x_hat * mean(gy * x_hat))

    Why one Function rather than the composition of mean, -, *, / that it replaces: the
    composition made 10 full-size temporaries forward and about 25 backward; here the
    forward makes 2 (x_hat, kept for backward, and y) and a plain backward makes 1.
    When the backward is itself recorded (``create_graph=True``, e.g. a gradient
    penalty), it is computed from the same formula written with differentiable ops,
    so second derivatives still work.
    """

    def __init__(self, eps: float) -> None:
        self.eps = eps

    def forward(self, x, weight, bias):
        xp = backend.get_array_module(x)
        self.axes = (0,) if x.ndim == 2 else (0, 2, 3)
        self.shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
        self.count = x.size // x.shape[1]
        mu = _sum_per_channel(x, self.shape) * (1.0 / self.count)
        self.mu = mu
        x_hat = x - mu
        y = xp.multiply(x_hat, x_hat)  # (x - mu)^2, then the same buffer becomes the output
        self.var = _sum_per_channel(y, self.shape) * (1.0 / self.count)
        self.inv_std = 1.0 / xp.sqrt(self.var + self.eps)
        x_hat *= self.inv_std
        self.x_hat = x_hat
        xp.multiply(x_hat, weight.reshape(self.shape), out=y)
        y += bias.reshape(self.shape)
        return y

    def backward(self, gy):
        if is_grad_enabled():
            return self._backward_recorded(gy)
        # Plain arrays, one temporary, in place: the same formulas as _backward_recorded.
        need = self.needs_input_grad
        g, x_hat, m = gy.data, self.x_hat, self.count
        weight = self.inputs[1].data.reshape(self.shape)
        g_sum = _sum_per_channel(g, self.shape)  # = dL/dbeta
        t = g * x_hat
        g_xhat_sum = _sum_per_channel(t, self.shape)  # = dL/dgamma
        gx = None
        if need[0]:
            # gx = gamma inv_std (gy - g_sum/m - x_hat g_xhat_sum/m), built in t's buffer.
            xp = backend.get_array_module(g)
            xp.multiply(x_hat, g_xhat_sum * (-1.0 / m), out=t)
            t += g
            t -= g_sum * (1.0 / m)
            t *= weight * self.inv_std
            gx = Tensor(t)
        gw = Tensor(g_xhat_sum.reshape(-1)) if need[1] else None
        gb = Tensor(g_sum.reshape(-1)) if need[2] else None
        return gx, gw, gb

    def _backward_recorded(self, gy):
        """The backward with differentiable ops, from x itself, for second derivatives."""
        x, weight, _ = self.inputs
        axes, shape = self.axes, self.shape
        d = x - mean(x, axis=axes, keepdims=True)
        inv_std = (mean(d * d, axis=axes, keepdims=True) + self.eps) ** -0.5
        x_hat = d * inv_std
        g = gy * reshape(weight, shape)
        gx = inv_std * (g - mean(g, axis=axes, keepdims=True) - x_hat * mean(g * x_hat, axis=axes, keepdims=True))
        gw = _sum(gy * x_hat, axis=axes)
        gb = _sum(gy, axis=axes)
        return gx, gw, gb


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over the batch (and spatial) axes, per channel.

    training:  mu, var = mean and biased variance of the batch;
               running <- (1 - momentum) running + momentum * batch (unbiased var, as PyTorch)
    eval:      mu, var = the running statistics.
    y = (x - mu) / sqrt(var + eps) * weight + bias.
    x: (N, C) or (N, C, H, W); running stats, weight, bias: (C,).
    Training mode is one Function (BatchNormTrain) with a hand-derived backward; eval mode
    is written with differentiable ops. Second derivatives work in both.
    """
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm expects input of shape (N, C) or (N, C, H, W), got {x.shape}.")
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm expects a floating-point input, got {x.dtype}: use x.astype('float32').")
    c = x.shape[1]
    for t, what in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: {what} has shape {t.shape} but the input has {c} channels.")
    shape = (1, c) if x.ndim == 2 else (1, c, 1, 1)
    if training:
        count = x.numel() // c
        if count < 2:
            raise ValueError(
                f"batch_norm in training mode needs more than one value per channel, got input {x.shape}: "
                "use a batch larger than 1, or call .eval() on the model."
            )
        xp = backend.get_array_module(x.data)
        # Without an affine part: gamma = 1, beta = 0 as constants (they get no gradient).
        gamma = weight if weight is not None else Tensor(xp.ones(c, dtype=x.dtype))
        beta = bias if bias is not None else Tensor(xp.zeros(c, dtype=x.dtype))
        f = BatchNormTrain(eps)
        y = f(x, gamma, beta)
        if running_mean is not None and running_var is not None:
            # The running statistics are buffers, not parameters: update the arrays in place.
            m = momentum
            running_mean.data *= 1 - m
            running_mean.data += m * f.mu.reshape(c)
            running_var.data *= 1 - m
            running_var.data += (m * count / (count - 1)) * f.var.reshape(c)
        f.mu = f.var = None  # not needed by backward
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm in eval mode needs running_mean and running_var.")
    mu = reshape(running_mean.detach(), shape)
    var = reshape(running_var.detach(), shape)
    y = (x - mu) / (var + eps) ** 0.5
    if weight is not None:
        y = y * reshape(weight, shape)
    if bias is not None:
        y = y + reshape(bias, shape)
    return y


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x)_k = x_k - log sum_j e^(x_j), along ``axis``: any shape -> the same shape.

    Computed as s - log sum_j e^(s_j) with s = x - max_j x_j, which is the same number (the shift
    cancels) but never overflows e^x; for the same reason the max is detached: it gets no gradient,
    and needs none. The gradient is d/dx_i = delta_ik - softmax(x)_i, made by autograd from the
    ops below (so it can be differentiated again).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"log_softmax expects a minigan Tensor, got {type(x).__name__}: "
                        "wrap it with minigan.tensor(x).")
    if x.dtype.kind != "f":
        raise TypeError(f"log_softmax expects floating-point scores, got {x.dtype}: "
                        "convert them with x.astype('float32').")
    s = x - x.max(axis=axis, keepdims=True).detach()
    return s - s.exp().sum(axis=axis, keepdims=True).log()


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only).

    The mask is drawn on the host from the run's generator, so NumPy and CuPy drop the same units.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}.")
    if not training or p == 0.0:
        return x
    keep = backend.generator().random(x.shape) >= p
    mask = (keep / (1.0 - p)).astype(x.dtype)
    xp = backend.get_array_module(x.data)
    return x * Tensor(mask if xp is np else xp.asarray(mask))


def one_hot(labels: Any, num_classes: int, dtype: Any = "float32", like: Any = None) -> Tensor:
    """Integer labels (N,) -> a (N, num_classes) tensor of zeros with a 1 at each label.

    Host labels (a list or NumPy array) are checked here, then sent where ``like`` (a
    Tensor or array: the model's input or weight) lives, or to the current backend, as
    ``tensor`` does: NumPy labels work with a model on the GPU. Labels already on the
    device are used as they are: checking their range there would read the device on
    every call.
    """
    y = labels.data if isinstance(labels, Tensor) else labels
    on_device = backend.is_device_array(y)
    if not on_device:
        y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot expects integer labels, got {y.dtype}: convert them with labels.astype('int64').")
    if not on_device and y.size and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"one_hot: labels must lie in [0, {num_classes}), got values from {int(y.min())} to {int(y.max())}."
        )
    if not on_device:
        like = like.data if isinstance(like, Tensor) else like
        y = (backend.current().xp if like is None else backend.get_array_module(like)).asarray(y)
    xp = backend.get_array_module(y)
    return Tensor((y[..., None] == xp.arange(num_classes)).astype(dtype))


def embedding(labels: Any, weight: Tensor) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) picked by integer labels (N,) -> (N, dim).

    Computed as one_hot(labels) @ weight, so the backward is a matrix product
    (repeated labels add up without a scatter).
    """
    return matmul(one_hot(labels, weight.shape[0], dtype=weight.dtype, like=weight), weight)

