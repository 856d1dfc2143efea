"""The GAN family's other losses, each beside its gradient derived by hand.

``minigan.losses`` holds the original game (BCE on D's logits: ``d_loss``,
``g_loss_minimax``, ``g_loss_nonsaturating``). The variants change what D's output
means and so what both players minimise. With r = D's outputs on real x and
f = D's outputs on fakes G(z) (raw outputs: no sigmoid anywhere here):

==========  ==========================================  ===========================
loss        D (or the critic) minimises                  G minimises
==========  ==========================================  ===========================
lsgan       1/2 mean (r - 1)^2 + 1/2 mean f^2            1/2 mean (f - 1)^2
wgan        mean f - mean r                              -mean f
hinge       mean relu(1 - r) + mean relu(1 + f)          -mean f
==========  ==========================================  ===========================

- LSGAN (Mao et al. 2017): least squares with targets 1 (real) and 0 (fake); fakes far on
  the right side of D's boundary still get a gradient, unlike the sigmoid's flat tails.
- WGAN (Arjovsky et al. 2017): D is a *critic* f_w; mean r - mean f estimates the
  Wasserstein-1 distance when f_w is 1-Lipschitz (weight clipping or a gradient penalty
  keeps it so; see ``minigan.gan``).
- Hinge (Lim & Ye 2017, Miyato et al. 2018): the SVM's margin loss for the critic.

As in ``minigan.losses``, each ``<name>_grad`` returns d(loss)/d(output) with plain array
math and the tests hold it equal to autograd's and to central differences.
"""

from __future__ import annotations

from typing import Any

from minigan.autograd import Tensor, mean, relu
from minigan.losses import _array_pair, _pair

__all__ = [
    "lsgan_d_loss", "lsgan_d_loss_grad", "lsgan_g_loss", "lsgan_g_loss_grad",
    "wgan_d_loss", "wgan_d_loss_grad", "wgan_g_loss", "wgan_g_loss_grad",
    "hinge_d_loss", "hinge_d_loss_grad", "hinge_g_loss", "hinge_g_loss_grad",
]


def _outputs(name: str, real: Any, fake: Any) -> tuple[Tensor, Tensor]:
    real, _ = _pair(name, "real outputs", real, 1.0)
    fake, _ = _pair(name, "fake outputs", fake, 0.0)
    return real, fake


def _arrays(name: str, real: Any, fake: Any) -> tuple[Any, Any, Any]:
    xp, r, _ = _array_pair(name, "real outputs", real, 1.0)
    xp, f, _ = _array_pair(name, "fake outputs", fake, 0.0)
    return xp, r, f


# --------------------------------------------------------------------------- least squares (LSGAN)


def lsgan_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """D's least-squares loss: 1/2 mean (r - 1)^2 + 1/2 mean f^2.  (N_r, ...), (N_f, ...) -> scalar."""
    r, f = _outputs("lsgan_d_loss", real_out, fake_out)
    return 0.5 * mean((r - 1.0) * (r - 1.0)) + 0.5 * mean(f * f)


def lsgan_d_loss_grad(real_out: Any, fake_out: Any) -> tuple[Any, Any]:
    """By hand: d/dr 1/2 (r - 1)^2 = r - 1 and d/df 1/2 f^2 = f, each over its batch's size."""
    _, r, f = _arrays("lsgan_d_loss_grad", real_out, fake_out)
    return (r - 1.0) / r.size, f / f.size


def lsgan_g_loss(fake_out: Tensor) -> Tensor:
    """G's least-squares loss: 1/2 mean (f - 1)^2 (G wants D to output 1, "real").  (N, ...) -> scalar."""
    f, _ = _pair("lsgan_g_loss", "fake outputs", fake_out, 1.0)
    return 0.5 * mean((f - 1.0) * (f - 1.0))


def lsgan_g_loss_grad(fake_out: Any) -> Any:
    """By hand: d/df 1/2 (f - 1)^2 = f - 1, over N."""
    _, f, _ = _array_pair("lsgan_g_loss_grad", "fake outputs", fake_out, 1.0)
    return (f - 1.0) / f.size


# --------------------------------------------------------------------------- Wasserstein (WGAN, WGAN-GP)


def wgan_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """The critic's loss: mean f - mean r, the negated estimate of W1(p_data, p_g).  -> scalar."""
    r, f = _outputs("wgan_d_loss", real_out, fake_out)
    return mean(f) - mean(r)


def wgan_d_loss_grad(real_out: Any, fake_out: Any) -> tuple[Any, Any]:
    """By hand: a constant -1/N_r on every real output and +1/N_f on every fake one.

    The critic's loss is linear in its outputs; all the shaping comes from the
    Lipschitz constraint, not from the loss.
    """
    xp, r, f = _arrays("wgan_d_loss_grad", real_out, fake_out)
    return xp.full_like(r, -1.0 / r.size), xp.full_like(f, 1.0 / f.size)


def wgan_g_loss(fake_out: Tensor) -> Tensor:
    """G's Wasserstein loss: -mean f (G raises the critic's score of its samples).  -> scalar."""
    f, _ = _pair("wgan_g_loss", "fake outputs", fake_out, 1.0)
    return -mean(f)


def wgan_g_loss_grad(fake_out: Any) -> Any:
    """By hand: -1/N on every output."""
    xp, f, _ = _array_pair("wgan_g_loss_grad", "fake outputs", fake_out, 1.0)
    return xp.full_like(f, -1.0 / f.size)


# --------------------------------------------------------------------------- hinge


def hinge_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """D's hinge loss: mean relu(1 - r) + mean relu(1 + f): real scores pushed above 1, fake below -1."""
    r, f = _outputs("hinge_d_loss", real_out, fake_out)
    return mean(relu(1.0 - r)) + mean(relu(1.0 + f))


def hinge_d_loss_grad(real_out: Any, fake_out: Any) -> tuple[Any, Any]:
    """By hand: -[r < 1]/N_r and +[f > -1]/N_f: only samples inside the margin get a gradient."""
    _, r, f = _arrays("hinge_d_loss_grad", real_out, fake_out)
    return -(r < 1.0).astype(r.dtype) / r.size, (f > -1.0).astype(f.dtype) / f.size


def hinge_g_loss(fake_out: Tensor) -> Tensor:
    """G's loss under the hinge game: -mean f, as for WGAN.  -> scalar."""
    f, _ = _pair("hinge_g_loss", "fake outputs", fake_out, 1.0)
    return -mean(f)


def hinge_g_loss_grad(fake_out: Any) -> Any:
    """By hand: -1/N on every output."""
    xp, f, _ = _array_pair("hinge_g_loss_grad", "fake outputs", fake_out, 1.0)  # errors name this function
    return xp.full_like(f, -1.0 / f.size)
