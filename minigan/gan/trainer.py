"""The GAN trainer: the lecture's algorithm, one method per step.

Goodfellow et al. (2014), Algorithm 1, for a generator G and a discriminator D::

    for each training iteration:
        for k steps:                                   d_step(real)
            sample noise z ~ p_z and real data x ~ p_data
            update D by descending  d_loss(D(x), D(G(z)))     (G is fixed)
        sample noise z ~ p_z                           g_step(n)
        update G by descending  g_loss(D(G(z)))                (D is fixed)

``d_step`` makes the fakes under ``no_grad()``: they carry no graph back into G, so
D's backward pass stops at them and G's weights cannot move. ``g_step`` runs
G and D inside ``frozen(D)``: the gradient flows *through* D into G, but D's own
weights collect nothing and only G's optimizer steps.

The loss is chosen by name (``LOSSES``): ``nonsaturating`` (the default, -log D(G(z))),
``minimax`` (the saturating log(1 - D(G(z))) of the original game), ``lsgan``,
``wgan`` (with weight clipping), ``wgan-gp`` (with a gradient penalty) and ``hinge``.

``ema`` = beta > 0 keeps a second copy of G, ``G_ema``, whose weights are the running average
G_ema <- beta G_ema + (1 - beta) G after every G step (Yazici et al. 2019, "The unusual
effectiveness of averaging in GAN training"): G's own weights circle around an equilibrium,
their average sits nearer its middle. Training never reads G_ema; ``generate`` samples from it.

Every step returns its numbers as plain floats: ``d_loss``, ``d_real`` = mean D(x),
``d_fake`` = mean D(G(z)) (probabilities for the BCE losses, raw scores otherwise),
``g_loss``.

BatchNorm layers keep updating their running statistics whenever a network runs in
training mode (as in PyTorch): G's during ``d_step``, D's during ``g_step``. Parameters
and optimizer states are what the two steps leave strictly alone.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigan import autograd as ops
from minigan import backend
from minigan.autograd import Tensor, grad, no_grad
from minigan.autograd.creation import rand, randn
from minigan.gan import losses
from minigan.module import Module, evaluating, frozen
from minigan.optim import Optimizer

__all__ = ["LOSSES", "Loss", "GAN", "NonFiniteLossError", "gradient_penalty", "r1_penalty"]


@dataclass(frozen=True)
class Loss:
    """A GAN loss: D's loss on (real outputs, fake outputs), G's loss on fake outputs.

    ``probability``: D's raw output is a logit and sigmoid(output) is P(real).
    """

    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Tensor], Tensor]
    probability: bool
    description: str


LOSSES: dict[str, Loss] = {
    "nonsaturating": Loss(losses.d_loss, losses.g_loss_nonsaturating, True,
                          "BCE for D; G minimises -log D(G(z)) (Goodfellow et al.'s practical choice)"),
    "minimax": Loss(losses.d_loss, losses.g_loss_minimax, True,
                    "BCE for D; G minimises log(1 - D(G(z))), the saturating loss of the minimax game"),
    "lsgan": Loss(losses.lsgan_d_loss, losses.lsgan_g_loss, False,
                  "least squares with targets 1 and 0 (Mao et al. 2017)"),
    "wgan": Loss(losses.wgan_d_loss, losses.wgan_g_loss, False,
                 "Wasserstein critic with weight clipping (Arjovsky et al. 2017)"),
    "wgan-gp": Loss(losses.wgan_d_loss, losses.wgan_g_loss, False,
                    "Wasserstein critic with a gradient penalty (Gulrajani et al. 2017)"),
    "hinge": Loss(losses.hinge_d_loss, losses.hinge_g_loss, False,
                  "hinge loss for D, -D(G(z)) for G (Miyato et al. 2018)"),
}


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; the step that produced it was not applied."""


def _finite(value: float, who: str) -> float:
    if not math.isfinite(value):
        raise NonFiniteLossError(
            f"{who}'s loss became {value}; the weights were left as they were before this step: "
            "lower the learning rate `lr` or try another `loss`."
        )
    return value


def gradient_penalty(D: Module, real: Tensor, fake: Tensor, y: Any = None) -> Tensor:
    """WGAN-GP's penalty  mean_i (||grad_x D(x_hat_i)||_2 - 1)^2  on random interpolates.

    x_hat = eps * x + (1 - eps) * G(z), eps ~ U(0, 1) per sample. The gradient is taken
    with ``create_graph=True`` so that the penalty itself can be differentiated with respect
    to D's weights: a second derivative (double backprop).
    real, fake: (N, ...) -> scalar.
    """
    # BEGIN EXERCISE gradient-penalty (10 points): WGAN-GP's gradient penalty, a second derivative
    # HINT: one eps ~ U(0, 1) per sample: rand(n, 1, ..., 1, dtype=real.dtype) broadcasts over the rest.
    # HINT: build x_hat from real.detach() and fake.detach(), then .requires_grad_(): a leaf of its own.
    # HINT: D(x_hat) is (N, 1); grad(ops.sum(out), [x_hat], create_graph=True) gives every sample's
    #   dD/dx at once (sample i's output depends on x_hat[i] only) and keeps a graph to D's weights.
    # HINT: the norm is over every axis but the first; add 1e-12 under the square root, where
    #   sqrt' is infinite at 0.
    n = real.shape[0]
    eps = rand(n, *([1] * (real.ndim - 1)), dtype=real.dtype)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_()
    out = D(x_hat) if y is None else D(x_hat, y)
    (g,) = grad(ops.sum(out), [x_hat], create_graph=True)
    norms = ops.sqrt(ops.sum(g * g, axis=tuple(range(1, g.ndim))) + 1e-12)  # (N,); the 1e-12 keeps sqrt' finite at 0
    return ops.mean((norms - 1.0) * (norms - 1.0))
    # END EXERCISE


def r1_penalty(D: Module, real: Tensor, y: Any = None, gamma: float = 1.0) -> Tensor:
    """The R1 penalty  gamma / 2 * mean_i ||grad_x D(x_i)||_2^2  on real data (Mescheder et al. 2018).

    It pushes D's slope to 0 at the data, where the GAN game's equilibrium should sit, so the
    gradient field stops circling there. D's raw output (the logit) is differentiated. As with
    ``gradient_penalty``, the input gradient is taken with ``create_graph=True`` so that the
    penalty can be differentiated with respect to D's weights (double backprop).
    real: (N, ...) -> scalar.
    """
    x = real.detach().requires_grad_()
    out = D(x) if y is None else D(x, y)
    # Each row of g is dD/dx at that sample: its output depends on its own x alone (with --pack,
    # on its pack's, and g holds the pack output's slope in each of its samples).
    (g,) = grad(ops.sum(out), [x], create_graph=True)
    return (0.5 * float(gamma)) * ops.mean(ops.sum(g * g, axis=tuple(range(1, g.ndim))))


class GAN:
    """Holds G, D and their optimizers and plays the game step by step.

    G: noise (N, z_dim) [, labels] -> samples; D: samples [, labels] -> (N, 1) outputs.
    ``d_steps`` = k, D's steps per G step. ``clip`` = c: after each D step every weight of D
    is clipped to [-c, c] (WGAN). ``gp_weight`` = lambda of the gradient penalty (WGAN-GP).
    ``r1`` = gamma of the R1 penalty on real data (Mescheder et al. 2018; 0 = off).
    ``n_classes``: a conditional GAN; fakes get labels drawn uniformly.
    """

    def __init__(self, G: Module, D: Module, opt_g: Optimizer, opt_d: Optimizer, loss: str = "nonsaturating",
                 d_steps: int = 1, z_dim: int | None = None, clip: float | None = None, gp_weight: float = 0.0,
                 n_classes: int = 0, ema: float = 0.0, r1: float = 0.0) -> None:
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(LOSSES)}.")
        if int(d_steps) < 1:
            raise ValueError(f"d_steps must be at least 1, got {d_steps}.")
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.loss_name, self.loss = loss, LOSSES[loss]
        self.d_steps = int(d_steps)
        self.z_dim = int(z_dim if z_dim is not None else G.z_dim)
        self.clip = clip
        self.gp_weight = float(gp_weight)
        self.r1 = float(r1)
        self.n_classes = int(n_classes or getattr(G, "n_classes", 0) or 0)
        if not 0.0 <= float(ema) < 1.0:
            raise ValueError(f"ema is the decay of G's running average, in [0, 1) (e.g. 0.999), got {ema}.")
        self.ema = float(ema)
        self.G_ema: Module | None = copy.deepcopy(G) if self.ema else None
        self.ema_updates = 0
        self.sample_from_ema = True  # False: generate() uses G's own weights even when G_ema exists

    # ---- the two players' inputs

    def sample_z(self, n: int, generator: np.random.Generator | None = None) -> Tensor:
        """z ~ p_z = N(0, I): (n, z_dim) in G's dtype (float32; float64 in checks). Every z of the
        project comes from here: the steps' (the backend's seeded generator), a run's fixed grid and
        ``sample``'s (a ``generator`` of their own, so they never disturb the training's stream)."""
        return randn(n, self.z_dim, dtype=self.dtype, generator=generator)

    def sample_labels(self, n: int) -> Any:
        """Labels for fakes of a conditional GAN, uniform over the classes: (n,) int64 on the backend."""
        host = backend.generator().integers(0, self.n_classes, size=n)
        return backend.current().asarray(host.astype(np.int64))

    def _G(self, z: Tensor, y: Any, G: Module | None = None) -> Tensor:
        """G(z) or G(z, y); ``G`` another generator of the same shape (the sampler) instead of self.G."""
        G = self.G if G is None else G
        return G(z) if y is None else G(z, y)

    def _D(self, x: Tensor, y: Any) -> Tensor:
        return self.D(x) if y is None else self.D(x, y)

    def _readout(self, who: str, loss: Tensor, *outs: Tensor) -> tuple[float, ...]:
        """(loss, mean D output of each of ``outs``) as floats, in one device-to-host read.

        The mean output is reported as P(real) for the BCE losses, the raw score otherwise. A NaN
        or inf loss raises ``NonFiniteLossError`` here, before any update: the caller reads this
        before it steps. On a GPU each read waits for the queued work, so a step reads once.
        """
        with no_grad():
            parts = [loss.data.reshape(1)]
            parts += [(ops.sigmoid(o) if self.loss.probability else o).data.mean().reshape(1) for o in outs]
            xp = backend.get_array_module(loss.data)
            host = backend.to_numpy(xp.concatenate(parts))
        return (_finite(float(host[0]), who), *(float(v) for v in host[1:]))

    # ---- the algorithm

    def d_step(self, real: Any, y: Any = None) -> dict[str, float]:
        """One update of D with G fixed. real: (N, ...) data batch [, y: (N,) its labels].

        Returns {"d_loss", "d_real" (mean D(x)), "d_fake" (mean D(G(z)))}.
        """
        real = real if isinstance(real, Tensor) else ops.tensor(real)  # host data goes to the backend
        n = real.shape[0]
        y_fake = self.sample_labels(n) if self.n_classes else None
        # BEGIN EXERCISE d-step (10 points): the discriminator's step, with G held fixed
        # HINT: z = self.sample_z(n); make the fakes with self._G(z, y_fake) under no_grad(): they
        #   are data for D, with no graph back into G.
        # HINT: score both batches with self._D(x, labels); D's loss is self.loss.d(real_out, fake_out),
        #   plus self.gp_weight * gradient_penalty(self.D, real, fake, y) when gp_weight is set, and
        #   r1_penalty(self.D, real, y, gamma=self.r1) when r1 is set.
        # HINT: value, d_real, d_fake = self._readout("D", loss, real_out, fake_out) before any
        #   update: one read of the loss (a NaN must move nothing) and of both mean D outputs.
        # HINT: then zero D's gradients, backpropagate, and step D's optimizer only. The lines after
        #   this region need value, d_real and d_fake.
        with no_grad():  # the fakes are data for D: no graph back into G
            fake = self._G(self.sample_z(n), y_fake)
        real_out, fake_out = self._D(real, y), self._D(fake, y_fake)
        loss = self.loss.d(real_out, fake_out)
        if self.gp_weight:
            loss = loss + self.gp_weight * gradient_penalty(self.D, real, fake, y)
        if self.r1:
            loss = loss + r1_penalty(self.D, real, y, gamma=self.r1)
        value, d_real, d_fake = self._readout("D", loss, real_out, fake_out)  # one device-to-host read
        self.opt_d.zero_grad()
        loss.backward()
        self.opt_d.step()
        # END EXERCISE
        if self.clip is not None:  # WGAN: keep the critic (roughly) Lipschitz by clipping its weights
            c = float(self.clip)
            for p in self.D.parameters():
                xp = backend.get_array_module(p.data)
                xp.clip(p.data, -c, c, out=p.data)
        return {"d_loss": value, "d_real": d_real, "d_fake": d_fake}

    def g_step(self, n: int) -> dict[str, float]:
        """One update of G through a fixed D, on n fresh noise vectors.

        The six steps: sample z; x_fake = G(z); D(x_fake); G's loss; backprop through D and G;
        update only G. Returns {"g_loss", "d_fake_g" (mean D(G(z)) as G saw it)}.
        """
        y = self.sample_labels(n) if self.n_classes else None
        # BEGIN EXERCISE g-step (10 points): the generator's step, through a fixed D
        # HINT: run G and D inside ``with frozen(self.D):``, so that the gradient flows through D
        #   into G while D's own weights collect none.
        # HINT: z = self.sample_z(n); self._G(z, y) and self._D(x, y) pass the labels when there are
        #   any. G's loss is self.loss.g of D's outputs on the fakes.
        # HINT: value, d_fake_g = self._readout("G", loss, fake_out) before any update (one read),
        #   then zero G's gradients, backpropagate, and step G's optimizer only. The lines after
        #   need value and d_fake_g.
        with frozen(self.D):  # gradients pass through D to G; D's weights collect none
            fake_out = self._D(self._G(self.sample_z(n), y), y)
            loss = self.loss.g(fake_out)
        value, d_fake_g = self._readout("G", loss, fake_out)  # one device-to-host read
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        # END EXERCISE
        return {"g_loss": value, "d_fake_g": d_fake_g}

    def train_step(self, batches: Iterator[Any]) -> dict[str, float]:
        """k D steps on the next k real batches from ``batches``, then one G step.

        ``batches`` yields data arrays, or (data, labels) pairs for a conditional GAN.
        Returns the last D step's numbers merged with the G step's.
        """
        for _ in range(self.d_steps):
            batch = next(batches)
            real, y = batch if isinstance(batch, tuple) else (batch, None)
            d = self.d_step(real, y if self.n_classes else None)
        g = self.g_step(real.shape[0])
        if self.G_ema is not None:
            self.update_ema()
        return {**d, **g}

    def update_ema(self) -> None:
        """G_ema <- b G_ema + (1 - b) G with b = min(beta, (1 + t) / (10 + t)), t = updates so far.

        The warm-up b (as in TensorFlow's ExponentialMovingAverage) lets the average forget the
        random initial weights within the first few hundred steps; BatchNorm's running
        statistics are copied, not averaged.
        """
        t = self.ema_updates
        b = min(self.ema, (1.0 + t) / (10.0 + t))
        for avg, p in zip(self.G_ema.parameters(), self.G.parameters()):
            avg.data *= b
            avg.data += (1.0 - b) * p.data
        for avg, buf in zip(self.G_ema.buffers(), self.G.buffers()):
            avg.data[...] = buf.data
        self.ema_updates = t + 1

    @property
    def sampler(self) -> Module:
        """The G that draws samples: the running average if there is one (and ``sample_from_ema``), else G."""
        return self.G_ema if self.G_ema is not None and self.sample_from_ema else self.G

    @no_grad()
    def generate(self, z: Tensor, y: Any = None) -> Tensor:
        """Samples G(z) [, y] in eval mode (BatchNorm uses its running statistics), with no graph;
        from ``sampler``: G_ema when the GAN keeps one."""
        G = self.sampler
        with evaluating(G):
            return self._G(z, y, G)

    @no_grad()
    def d_probability(self, x: Tensor, y: Any = None) -> Tensor:
        """D's belief that x is real, in eval mode: sigmoid of the logit for the BCE losses, raw otherwise."""
        with evaluating(self.D):
            out = self._D(x, y)
            return ops.sigmoid(out) if self.loss.probability else out

    def d_at_points(self, x: Any) -> np.ndarray:
        """D's belief about each single sample, on the host: x (M, ...) -> (M,).

        ``d_probability`` of each x_i (P(real) for the BCE losses, the raw score otherwise). A packed D
        (PacGAN) judges m samples at once; its belief about x_i is its output on m copies of x_i.
        """
        x = np.asarray(backend.to_numpy(x), dtype=self.dtype)
        pack = getattr(self.D, "pack", 1)
        if pack > 1:
            x = np.repeat(x, pack, axis=0)
        out = self.d_probability(Tensor(backend.current().asarray(x)))
        return backend.to_numpy(out.data).reshape(-1)

    def g_direction(self, fake: Any) -> np.ndarray:
        """Where G's loss pushes each generated point, on the host: -dL/dx_i for x = fake (M, ...) -> (M, ...).

        L = g_loss(D(x)), the loss ``g_step`` descends, with D fixed; it averages over D's B outputs
        (B = M, or M / m for a packed D), so the gradient is multiplied by B: each row is then the
        pull of its own sample's term, whatever M. A G step moves G(z_i) along row i (through G's
        Jacobian, to first order): GAN Lab's arrows. Unconditional GANs; M a multiple of the pack.
        """
        x = Tensor(backend.current().asarray(np.asarray(backend.to_numpy(fake), dtype=self.dtype)))
        x.requires_grad_()
        with frozen(self.D), evaluating(self.D):
            out = self._D(x, None)
            (g,) = grad(self.loss.g(out), [x])
        return backend.to_numpy(g.data) * -float(out.shape[0])

    @property
    def dtype(self) -> Any:
        """G's parameters' dtype, which z and the points given to D take: float32 (float64 in checks)."""
        return next(iter(self.G.parameters())).dtype

    # ---- checkpoints

    def state_dict(self) -> dict[str, Any]:
        """G, D and both optimizers' states (host NumPy arrays and plain values), and G_ema if kept."""
        state = {"G": self.G.state_dict(), "D": self.D.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}
        if self.G_ema is not None:
            state.update(G_ema=self.G_ema.state_dict(), ema_updates=self.ema_updates)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` saved, in place: the weights, both optimizers and G_ema if this GAN keeps one."""
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.G_ema is not None:
            if "G_ema" not in state:
                raise ValueError("this GAN keeps a running average of G (`ema`) but the state has none: "
                                 "it was saved by a GAN made without one.")
            self.G_ema.load_state_dict(state["G_ema"])
            self.ema_updates = int(state["ema_updates"])
