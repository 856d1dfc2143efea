"""The generators and discriminators the trainer, the lessons and the benchmarks use.

Two families, each a pair (G, D):

``mlp``  (any data shape; the 2-D toys and flattened images)::

    G: z (z_dim) -> Linear h -> LeakyReLU(0.2) -> Linear h -> LeakyReLU(0.2) -> Linear out -> tanh
    D: x (in)    -> Linear h -> LeakyReLU(0.2) -> Linear h -> LeakyReLU(0.2) -> Linear 1   (a logit)

    For 2-D points G ends without tanh: the toy data are not confined to [-1, 1].

``dcgan``  (28 x 28 images, Radford et al. 2016, at MNIST size)::

    G: z -> Linear 7*7*2w -> BatchNorm1d -> ReLU -> (2w, 7, 7)
         -> ConvTranspose2d(2w, w, 4, 2, 1) -> BatchNorm2d -> ReLU         (w, 14, 14)
         -> ConvTranspose2d(w, C, 4, 2, 1) -> tanh                         (C, 28, 28)
    D: x -> Conv2d(C, w, 4, 2, 1) -> LeakyReLU(0.2)                        (w, 14, 14)
         -> Conv2d(w, 2w, 4, 2, 1) -> BatchNorm2d -> LeakyReLU(0.2)        (2w, 7, 7)
         -> Flatten -> Linear(2w*7*7, 1)                                   a logit

    with w = 64 by default; weights drawn from N(0, 0.02) as the paper says (``init_dcgan_``).

D always returns logits (N, 1): D(x) = sigmoid(logit) is "the probability that x is real",
and the losses work on logits for numerical stability (see ``minigan.gan.losses``).

Two options serve the GAN variants:

- ``n_classes``: a conditional GAN, G(z, y) and D(x, y). For the MLP the label enters as a
  one-hot vector concatenated to z and to x; for the DCGAN, G concatenates a learned label
  embedding to z and D reads the embedding as an extra 28 x 28 input channel.
  ``mlp(..., projection=True)`` gives D the label by projection instead (Miyato & Koyama
  2018, ``ProjectionDiscriminator``): D(x, y) = head(phi(x)) + <embed(y), phi(x)>, phi being
  D's last hidden features. Concatenated, y is 10 inputs beside 784 pixels and moves D's first
  layer by one bias per class; projected, it weighs every feature of x, and D learns "is this
  a y?" within a few thousand steps on MNIST (lesson 12 measures both).
- ``pack``: PacGAN (Lin et al. 2018). D judges ``pack`` samples at once, concatenated along
  the features (MLP) or the channels (DCGAN). D groups them itself: it reshapes each run of
  ``pack`` consecutive samples of its batch (N, ...) into one input, giving N / pack logits, so
  the trainer passes batches as usual; N must be a multiple of ``pack``.
"""

from __future__ import annotations

import math
from typing import Any

from minigan import functional as F
from minigan import init, nn
from minigan.autograd import Tensor, concat, reshape
from minigan.autograd import sum as sum_

__all__ = ["MODELS", "Generator", "Discriminator", "ProjectionDiscriminator", "mlp", "dcgan", "build", "init_dcgan_"]

MODELS = ("mlp", "dcgan")


def _label_check(module: nn.Module, y: Any) -> None:
    if module.n_classes and y is None:
        raise ValueError(
            f"{type(module).__name__} is conditional ({module.n_classes} classes): call it with labels, e.g. G(z, y)."
        )
    if not module.n_classes and y is not None:
        raise ValueError(f"{type(module).__name__} is unconditional: call it without labels.")


class Generator(nn.Module):
    """G(z) or G(z, y): noise z (N, z_dim) [and labels y (N,)] -> samples (N, *data_shape)."""

    def __init__(self, body: nn.Module, z_dim: int, data_shape: tuple[int, ...], n_classes: int = 0,
                 label: nn.Module | None = None) -> None:
        super().__init__()
        self.z_dim, self.data_shape, self.n_classes = int(z_dim), tuple(data_shape), int(n_classes or 0)
        if label is not None:
            self.label = label
        self.body = body

    def forward(self, z: Tensor, y: Any = None) -> Tensor:
        _label_check(self, y)
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"G expects noise z of shape (N, {self.z_dim}), got {tuple(z.shape)}.")
        if self.n_classes:
            code = self.label(y) if hasattr(self, "label") else F.one_hot(y, self.n_classes, dtype=z.dtype, like=z)
            z = concat([z, code], axis=1)
        return self.body(z)


class Discriminator(nn.Module):
    """D(x) or D(x, y): samples (N, *data_shape) [and labels (N,)] -> logits (N / pack, 1)."""

    def __init__(self, body: nn.Module, data_shape: tuple[int, ...], n_classes: int = 0, pack: int = 1,
                 label: nn.Module | None = None, image: bool = False) -> None:
        super().__init__()
        self.data_shape, self.n_classes, self.pack = tuple(data_shape), int(n_classes or 0), int(pack)
        self.image = image
        if label is not None:
            self.label = label
        self.body = body

    def _check_input(self, x: Tensor, y: Any) -> None:
        _label_check(self, y)
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"D expects samples of shape (N, {', '.join(map(str, self.data_shape))}), got {tuple(x.shape)}."
            )

    def forward(self, x: Tensor, y: Any = None) -> Tensor:
        self._check_input(x, y)
        n = x.shape[0]
        if self.n_classes:
            if self.image:  # the label's embedding becomes one more image channel
                code = reshape(self.label(y), (n, 1) + self.data_shape[1:])
                x = concat([x, code], axis=1)
            else:
                x = concat([reshape(x, (n, -1)), F.one_hot(y, self.n_classes, dtype=x.dtype, like=x)], axis=1)
        if self.pack > 1:
            if n % self.pack:
                raise ValueError(f"D packs {self.pack} samples at a time: the batch ({n}) must be a multiple of it.")
            # m consecutive samples side by side: along the features (MLP) or the channels (DCGAN).
            x = reshape(x, (n // self.pack, -1) + (tuple(x.shape[2:]) if self.image else ()))
        return self.body(x)


class ProjectionDiscriminator(Discriminator):
    """D(x, y) = head(phi(x)) + <embed(y), phi(x)>  (Miyato & Koyama 2018): x (N, *data_shape), y (N,) -> (N, 1).

    phi = body(x): (N, h), D's last hidden features; head: Linear(h, 1); embed = ``label``:
    Embedding(n_classes, h), zero at the start, so D begins as the unconditional D and learns
    one direction per class in feature space: "how much does x look like a y".
    """

    def __init__(self, body: nn.Module, head: nn.Module, data_shape: tuple[int, ...], n_classes: int,
                 hidden: int) -> None:
        label = nn.Embedding(n_classes, hidden)
        init.zeros_(label.weight)
        super().__init__(body, data_shape, n_classes, label=label)
        self.head = head

    def forward(self, x: Tensor, y: Any = None) -> Tensor:
        self._check_input(x, y)
        phi = self.body(x)
        return self.head(phi) + sum_(phi * self.label(y), axis=1, keepdims=True)


def init_dcgan_(module: nn.Module) -> nn.Module:
    """DCGAN's init (Radford et al. 2016), in place: every Linear, Conv2d and ConvTranspose2d weight
    W ~ N(0, 0.02^2) and bias 0; every affine BatchNorm's gamma ~ N(1, 0.02^2) and beta 0. Other
    layers (embeddings: N(0, 1)) keep their own init. Returns the module."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
            init.normal_(m.weight, 1.0, 0.02)
        else:
            continue
        if m.bias is not None:
            init.zeros_(m.bias)
    return module


def _size(shape: tuple[int, ...]) -> int:
    return int(math.prod(shape))


def _hidden_layers(n_in: int, width: int, depth: int) -> list[nn.Module]:
    """``depth`` times Linear then LeakyReLU(0.2): n_in -> width -> ... -> width."""
    layers: list[nn.Module] = []
    for i in range(int(depth)):
        layers += [nn.Linear(n_in if i == 0 else width, width), nn.LeakyReLU(0.2)]
    return layers


def mlp(data_shape: tuple[int, ...] = (1, 28, 28), z_dim: int = 64, hidden: int = 256, n_classes: int = 0,
        pack: int = 1, tanh: bool | None = None, projection: bool = False,
        scale: float = 1.0, depth: int = 2, d_hidden: int | None = None,
        d_depth: int | None = None) -> tuple[Generator, Discriminator]:
    """The MLP pair for data of ``data_shape`` ((2,) for the toys, (1, 28, 28) for images).

    ``tanh`` (default: on for images, off for 2-D points) squashes G's output into [-1, 1].
    ``projection`` (with ``n_classes``): D is a ``ProjectionDiscriminator`` on x alone
    (Linear(out, h) first) instead of reading x ⊕ one_hot(y); G still reads z ⊕ one_hot(y).
    ``scale`` s (not 1): G ends with ``nn.Scale(s)`` and D starts with ``nn.Scale(1/s)``, so both
    networks work in units of s, the data's spread (``data.toy_scale``), with unchanged weights.
    ``depth``: G's hidden layers (each Linear then LeakyReLU(0.2)); ``d_hidden``, ``d_depth``: D's
    width and hidden layers where they differ from G's ``hidden`` and ``depth``.
    """
    if not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale}.")
    d_hidden = hidden if d_hidden is None else d_hidden
    d_depth = depth if d_depth is None else d_depth
    for name, value in (("depth", depth), ("d_depth", d_depth), ("hidden", hidden), ("d_hidden", d_hidden)):
        if int(value) < 1:
            raise ValueError(f"`{name}` must be at least 1, got {value}.")
    _check_projection(projection, n_classes, pack)
    data_shape = tuple(int(s) for s in data_shape)
    out = _size(data_shape)
    if tanh is None:
        tanh = len(data_shape) > 1
    g_layers = _hidden_layers(z_dim + n_classes, hidden, depth) + [nn.Linear(hidden, out)]
    if tanh:
        g_layers.append(nn.Tanh())
    if scale != 1:
        g_layers.append(nn.Scale(scale))
    if len(data_shape) > 1:
        g_layers.append(nn.Unflatten(1, data_shape))
    d_in = out if projection else (out + n_classes) * pack
    d_layers = [nn.Flatten(), *_hidden_layers(d_in, d_hidden, d_depth), nn.Linear(d_hidden, 1)]
    if scale != 1:
        d_layers.insert(1, nn.Scale(1 / scale))
    G = Generator(nn.Sequential(*g_layers), z_dim, data_shape, n_classes)
    if projection:
        D = ProjectionDiscriminator(nn.Sequential(*d_layers[:-1]), d_layers[-1], data_shape, n_classes, d_hidden)
    else:
        D = Discriminator(nn.Sequential(*d_layers), data_shape, n_classes, pack)
    return G, D


def dcgan(data_shape: tuple[int, ...] = (1, 28, 28), z_dim: int = 64, width: int = 64, n_classes: int = 0,
          pack: int = 1, projection: bool = False) -> tuple[Generator, Discriminator]:
    """The DCGAN pair for (C, 28, 28) images; ``width`` w is D's first and G's last feature count.

    Conditional (``n_classes``): G reads z ⊕ embed(y). D reads the label as one more image channel
    (a learned 28 x 28 map per class), or with ``projection`` as a ``ProjectionDiscriminator``:
    D(x, y) = head(phi(x)) + <embed(y), phi(x)> on its last conv features phi (2w x 7 x 7).
    """
    data_shape = tuple(int(s) for s in data_shape)
    if len(data_shape) != 3 or data_shape[1:] != (28, 28):
        raise ValueError(f"dcgan is built for 28 x 28 images (C, 28, 28), got data of shape {data_shape}: "
                         f"use the mlp model for other data.")
    _check_projection(projection, n_classes, pack)
    c, w = data_shape[0], int(width)
    g_label = nn.Embedding(n_classes, n_classes) if n_classes else None
    G = Generator(nn.Sequential(
        nn.Linear(z_dim + n_classes, 7 * 7 * 2 * w), nn.BatchNorm1d(7 * 7 * 2 * w), nn.ReLU(),
        nn.Unflatten(1, (2 * w, 7, 7)),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(),
        nn.ConvTranspose2d(w, c, 4, 2, 1), nn.Tanh(),
    ), z_dim, data_shape, n_classes, label=g_label)
    channel = bool(n_classes) and not projection  # the label as an image channel
    d_label = nn.Embedding(n_classes, 28 * 28) if channel else None
    body = [
        nn.Conv2d((c + (1 if channel else 0)) * pack, w, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(2 * w * 7 * 7, 1),
    ]
    if projection:
        D = ProjectionDiscriminator(nn.Sequential(*body[:-1]), body[-1], data_shape, n_classes, 2 * w * 7 * 7)
    else:
        D = Discriminator(nn.Sequential(*body), data_shape, n_classes, pack, label=d_label, image=True)
    # DCGAN's N(0, 0.02) init; the label embeddings keep their own (N(0, 1); projection's: 0).
    init_dcgan_(G.body)
    init_dcgan_(nn.Sequential(*body))
    return G, D


def _check_projection(projection: bool, n_classes: int, pack: int) -> None:
    if projection and not n_classes:
        raise ValueError("projection=True conditions D on labels: give n_classes too, e.g. mlp(n_classes=10, "
                         "projection=True).")
    if projection and pack > 1:
        raise ValueError("projection=True and pack > 1 cannot be combined: use one of them.")


CONDITIONS = ("projection", "concat")


def build(name: str, data_shape: tuple[int, ...], z_dim: int = 64, width: int | None = None, n_classes: int = 0,
          pack: int = 1, scale: float = 1.0, condition: str = "concat", depth: int = 2, d_width: int | None = None,
          d_depth: int | None = None) -> tuple[Generator, Discriminator]:
    """``build("mlp" | "dcgan", data_shape, ...)``; ``width`` is the MLP's hidden size or the DCGAN's w;
    ``scale``, ``depth``, ``d_width`` and ``d_depth``: see :func:`mlp` (the MLP only); ``condition``
    (with ``n_classes``): how D hears the label, ``"projection"`` or ``"concat"`` (one-hot ⊕ x for the
    MLP, a label channel for the DCGAN)."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown `condition` {condition!r}: choose one of {', '.join(CONDITIONS)}.")
    projection = bool(n_classes) and condition == "projection"
    if name == "mlp":
        return mlp(data_shape, z_dim, hidden=width or 256, n_classes=n_classes, pack=pack, scale=scale,
                   projection=projection, depth=depth, d_hidden=d_width, d_depth=d_depth)
    if name == "dcgan":
        return dcgan(data_shape, z_dim, width=width or 64, n_classes=n_classes, pack=pack, projection=projection)
    raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}.")
