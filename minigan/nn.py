"""The layers, with PyTorch's names: ``Linear``, ``Conv2d``, ``BatchNorm2d``, ``Sequential``, ... (``torch.nn``).

::

    G = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 784), nn.Tanh())
    x_fake = G(z)                         # z: (N, 64) -> (N, 784)
    with nn.frozen(D):                    # "update G through a fixed D": the gradient flows
        loss = g_loss(D(G(z)))            #   through D into G, D's weights get none

(D's step needs no context: it scores fakes made under ``no_grad()``, which carry no
graph back into G.)

Each layer's ``forward`` calls the function of the same name in
``minigan.functional``; the layer only owns the weights and PyTorch's default
initialisation, drawn on the host, so the same seed gives the same network on
NumPy and CuPy. ``Module``, ``Parameter`` and the contexts ``frozen``, ``evaluating``
and ``substituted`` come from ``minigan.module`` and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigan import backend, init
from minigan import functional as F
from minigan.autograd import Tensor
from minigan.autograd.conv import flatten_features, pair
from minigan.module import LoadResult, Module, Parameter, evaluating, frozen, substituted

__all__ = [
    "Parameter", "Module", "frozen", "evaluating", "substituted", "LoadResult", "init",
    "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Dropout", "Flatten", "Unflatten", "Sequential", "Embedding", "Scale",
]


def _new_parameter(*shape: int) -> Parameter:
    """A float32 parameter of zeros on the current backend, for an init function to fill."""
    return Parameter(backend.current().xp.zeros(shape, dtype=np.float32))


def _require_tensor(layer: Module, x: Any, floating: bool = True) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{layer._name()} expects a minigan Tensor, got {type(x).__name__}: wrap it with minigan.tensor(x)."
        )
    if floating and x.dtype.kind != "f":
        raise TypeError(
            f"{layer._name()} expects a floating-point input, got {x.dtype}: convert it with x.astype('float32')."
        )


def _init_default_(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default: kaiming_uniform_(W, a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same."""
    bound = 1.0 / math.sqrt(init.fan_in(weight))
    init.uniform_(weight, -bound, bound)
    if bias is not None:
        init.uniform_(bias, -bound, bound)


# --------------------------------------------------------------------------- layers with weights


class Linear(Module):
    """y = x W^T + b.  x: (..., in_features) -> (..., out_features); W: (out, in), b: (out,).

    Init (PyTorch's): W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = _new_parameter(self.out_features, self.in_features)
        self.register_parameter("bias", _new_parameter(self.out_features) if bias else None)
        _init_default_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: sizes, default init, the channel check, the repr."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int], padding: int | tuple[int, int], bias: bool,
                 weight_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = pair(kernel_size), pair(stride), pair(padding)
        self.weight = _new_parameter(*weight_shape, *self.kernel_size)
        self.register_parameter("bias", _new_parameter(self.out_channels) if bias else None)
        _init_default_(self.weight, self.bias)

    def _check(self, x: Any) -> None:
        _require_tensor(self, x)
        if x.ndim == 4 and x.shape[1] != self.in_channels:
            raise ValueError(
                f"{self._name()} expects {self.in_channels} input channels but got input of shape {x.shape}: "
                "check in_channels against the out_channels of the layer before it."
            )

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        return s + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """y[n, o] = b[o] + sum_c W[o, c] (cross-correlated with) x[n, c].

    x: (N, in_channels, H, W) -> (N, out_channels, OH, OW), OH = floor((H + 2 padding - KH) / stride) + 1.
    W: (out_channels, in_channels, KH, KW). Init: U(+-1/sqrt(fan_in)), fan_in = in_channels*KH*KW.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias, (out_channels, in_channels))

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_ConvNd):
    """The adjoint of Conv2d: each input pixel adds W[c] * x[n, c, h, w] into an output patch; then crop padding.

    x: (N, in_channels, H, W) -> (N, out_channels, OH, OW), OH = stride (H - 1) + KH - 2 padding.
    W: (in_channels, out_channels, KH, KW). Init: U(+-1/sqrt(fan_in)) with PyTorch's fan_in from
    W's axis 1, out_channels*KH*KW.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, bias, (in_channels, out_channels))

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; ``_ndim`` is the input rank each accepts."""

    _ndim = 2
    _layout = "(N, C)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum, self.affine = int(num_features), float(eps), float(momentum), affine
        self.register_parameter("weight", init.ones_(_new_parameter(self.num_features)) if affine else None)
        self.register_parameter("bias", _new_parameter(self.num_features) if affine else None)
        xp = backend.current().xp
        self.register_buffer("running_mean", Tensor(xp.zeros(self.num_features, dtype=np.float32)))
        self.register_buffer("running_var", Tensor(xp.ones(self.num_features, dtype=np.float32)))

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        if x.ndim != self._ndim or x.shape[1] != self.num_features:
            raise ValueError(
                f"{self._name()} expects input of shape {self._layout} with C = {self.num_features}, got {x.shape}: "
                "check num_features, and use BatchNorm1d after Linear, BatchNorm2d after Conv2d."
            )
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=self.momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """y = (x - mu) / sqrt(var + eps) * gamma + beta per feature.  x: (N, C) -> (N, C).

    Training: mu, var (biased) of the batch; running_mean/var <- (1 - momentum) * running +
    momentum * batch statistic (unbiased variance). Eval: the running statistics.
    gamma (weight) = 1, beta (bias) = 0 at the start.
    """


class BatchNorm2d(_BatchNorm):
    """BatchNorm1d per channel over (N, H, W).  x: (N, C, H, W) -> (N, C, H, W)."""

    _ndim = 4
    _layout = "(N, C, H, W)"


class Embedding(Module):
    """A lookup table: labels (N,) of ints in [0, num_embeddings) -> rows of W, (N, embedding_dim).

    W: (num_embeddings, embedding_dim), init N(0, 1) as in PyTorch. The class condition of a cGAN.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.weight = init.normal_(_new_parameter(self.num_embeddings, self.embedding_dim))

    def forward(self, labels: Any) -> Tensor:
        return F.embedding(labels, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


# --------------------------------------------------------------------------- layers without weights


class ReLU(Module):
    """y = max(x, 0), any shape."""

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        return F.relu(x)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x, any shape (DCGAN's D uses slope 0.2)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """y = tanh(x) in (-1, 1), any shape: G's last layer for images scaled to [-1, 1]."""

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        return F.tanh(x)


class Scale(Module):
    """y = factor * x for a fixed number ``factor`` (not learned, not saved): any shape -> the same shape.

    E.g. a network that ends with Scale(s) (or starts with Scale(1/s)) works in units of s
    inside while its outputs (or inputs) stay in the original units.
    """

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = float(factor)

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        return x * self.factor

    def extra_repr(self) -> str:
        return f"{self.factor:g}"


class Sigmoid(Module):
    """y = 1 / (1 + e^-x) in (0, 1), any shape."""

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        return F.sigmoid(x)


class Dropout(Module):
    """Training: y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element. Eval: y = x. Any shape."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p is the probability of dropping a unit and must be in [0, 1), got {p}.")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x)
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _axis(layer: Module, axis: int, x: Tensor) -> int:
    """A possibly negative axis of x as an index in [0, x.ndim)."""
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{layer._name()} needs axis {axis}, but the input has shape {x.shape} ({x.ndim} axes).")
    return axis % x.ndim


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x, floating=False)
        s, e = _axis(self, self.start_dim, x), _axis(self, self.end_dim, x)
        if x.ndim == 4 and (s, e) == (1, 3):  # a feature map into a Linear layer: the convolutions' flatten
            return flatten_features(x)
        return x.reshape(x.shape[:s] + (int(math.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``sizes``: Unflatten(1, (128, 7, 7)) maps (N, 6272) -> (N, 128, 7, 7)."""

    def __init__(self, dim: int, sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.dim, self.sizes = int(dim), tuple(int(s) for s in sizes)

    def forward(self, x: Tensor) -> Tensor:
        _require_tensor(self, x, floating=False)
        d = _axis(self, self.dim, x)
        if math.prod(self.sizes) != x.shape[d]:
            raise ValueError(
                f"{self._name()} cannot split axis {d} of size {x.shape[d]} (input {x.shape}) into {self.sizes}: "
                f"the sizes must multiply to {x.shape[d]}."
            )
        return x.reshape(x.shape[:d] + self.sizes + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.sizes}"


class Sequential(Module):
    """Layers applied in order: y = f_k(... f_2(f_1(x))). Indexable (net[0], net[1:]), len(), iterable."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> Sequential:
        """Add a layer at the end, named by its position. Returns self."""
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential holds Modules, got {type(module).__name__}: wrap a function in a Module subclass."
            )
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])  # shares the layers, renumbered from 0
        return layers[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def forward(self, x: Any) -> Any:
        for layer in self:
            x = layer(x)
        return x
