"""Every GAN loss, each beside its gradient derived by hand.

D's loss says how D is scored on real x and on fakes G(z); G's loss says what G wants D to
say about its fakes. With r = D's outputs on real x and f = D's outputs on fakes G(z):

=====================  ==========================================  =============================
loss                   D (or the critic) minimises                  G minimises
=====================  ==========================================  =============================
minimax                mean softplus(-r) + mean softplus(f)         -mean softplus(f)
nonsaturating          mean softplus(-r) + mean softplus(f)         mean softplus(-f)
lsgan                  1/2 mean (r - 1)^2 + 1/2 mean f^2            1/2 mean (f - 1)^2
wgan                   mean f - mean r                              -mean f
hinge                  mean relu(1 - r) + mean relu(1 + f)          -mean f
=====================  ==========================================  =============================

- The original game (Goodfellow et al. 2014): r and f are D's *logits*, D(x) = sigma(r), and
  D's loss is the BCE of sigma(r) against 1 and of sigma(f) against 0, written as softplus
  (``minigan.losses`` has the identities). G's ``minimax`` loss is the part of
  V(D, G) it controls, log(1 - D(G(z))); the ``nonsaturating`` one, -log D(G(z)), has the same
  fixed point but is steep where D rejects the fakes (lesson 05).
- LSGAN (Mao et al. 2017): least squares with targets 1 (real) and 0 (fake); fakes far on
  the right side of D's boundary still get a gradient, unlike the sigmoid's flat tails.
- WGAN (Arjovsky et al. 2017): D is a *critic* f_w; mean r - mean f estimates the
  Wasserstein-1 distance when f_w is 1-Lipschitz (weight clipping or a gradient penalty
  keeps it so; see ``minigan.gan.trainer``). ``wgan-gp`` uses the same two losses.
- Hinge (Lim & Ye 2017, Miyato et al. 2018): the SVM's margin loss for the critic.

The variants' outputs are raw scores: no sigmoid anywhere. Each ``<name>_grad`` returns
d(loss)/d(output) with plain array math and the tests hold it equal to autograd's and to
central differences.
"""

from __future__ import annotations

from typing import Any

from minigan.autograd import Tensor, mean, relu, softplus
from minigan.losses import loss_arrays, loss_inputs, sigmoid_array

__all__ = [
    "d_loss", "d_loss_grad", "g_loss_minimax", "g_loss_minimax_grad",
    "g_loss_nonsaturating", "g_loss_nonsaturating_grad",
    "lsgan_d_loss", "lsgan_d_loss_grad", "lsgan_g_loss", "lsgan_g_loss_grad",
    "wgan_d_loss", "wgan_d_loss_grad", "wgan_g_loss", "wgan_g_loss_grad",
    "hinge_d_loss", "hinge_d_loss_grad", "hinge_g_loss", "hinge_g_loss_grad",
]


def _outputs(name: str, real: Any, fake: Any) -> tuple[Tensor, Tensor]:
    real, _ = loss_inputs(name, "real outputs", real, 1.0)
    fake, _ = loss_inputs(name, "fake outputs", fake, 0.0)
    return real, fake


def _arrays(name: str, real: Any, fake: Any) -> tuple[Any, Any, Any]:
    xp, r, _ = loss_arrays(name, "real outputs", real, 1.0)
    xp, f, _ = loss_arrays(name, "fake outputs", fake, 0.0)
    return xp, r, f


# --------------------------------------------------------------------------- the original game, on D's logits


def d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The discriminator's loss: BCE with target 1 on real, target 0 on fake.

    D maximises  V = E_x~p_data[log D(x)] + E_z~p_z[log(1 - D(G(z)))],  so it minimises -V:

        d_loss = -mean log sigma(r) - mean log(1 - sigma(f))
               = mean softplus(-r) + mean softplus(f)

    r = D's logits on real x, f = D's logits on fakes G(z); the two batches may differ in size.
    real_logits: (N_r, ...), fake_logits: (N_f, ...) -> scalar.
    """
    real_logits, _ = loss_inputs("d_loss", "real logits", real_logits, 1.0)
    fake_logits, _ = loss_inputs("d_loss", "fake logits", fake_logits, 0.0)
    return mean(softplus(-real_logits)) + mean(softplus(fake_logits))


def d_loss_grad(real_logits: Any, fake_logits: Any) -> tuple[Any, Any]:
    """(d d_loss / d r, d d_loss / d f) by hand, arrays of the two logits' shapes."""
    xp, r, _ = loss_arrays("d_loss_grad", "real logits", real_logits, 1.0)
    xp, f, _ = loss_arrays("d_loss_grad", "fake logits", fake_logits, 0.0)
    # BEGIN EXERCISE minimax-grad (10 points): the gradients of the GAN losses on D's logits, by hand
    # HINT: softplus' = sigma, and sigmoid_array(xp, a) is sigma on a raw array.
    # HINT: each mean divides by its own batch: r.size for the real term, f.size for the fake one.
    # d/dr softplus(-r) = -sigma(-r) = sigma(r) - 1 and d/df softplus(f) = sigma(f): D pushes real logits up
    # (g_real < 0) and fake logits down (g_fake > 0).
    return (sigmoid_array(xp, r) - 1.0) / r.size, sigmoid_array(xp, f) / f.size
    # END EXERCISE


def g_loss_minimax(fake_logits: Tensor) -> Tensor:
    """The generator's loss in the original minimax game (saturating).

    G minimises the part of V it controls:

        g_loss = mean log(1 - D(G(z))) = mean log(1 - sigma(f)) = -mean softplus(f)

    Early in training D spots fakes easily (f << 0), where this is flat: see
    ``g_loss_minimax_grad``. fake_logits: (N, ...) -> scalar.
    """
    fake_logits, _ = loss_inputs("g_loss_minimax", "fake logits", fake_logits, 0.0)
    return -mean(softplus(fake_logits))


def g_loss_minimax_grad(fake_logits: Any) -> Any:
    """d g_loss_minimax / d f by hand, an array of f's shape.

    Where D is sure the fake is fake (f << 0) this gradient is tiny: G barely learns exactly
    when it is worst. That is the saturation the non-saturating loss fixes.
    """
    xp, f, _ = loss_arrays("g_loss_minimax_grad", "fake logits", fake_logits, 0.0)
    # BEGIN EXERCISE minimax-grad (10 points): the gradients of the GAN losses on D's logits, by hand
    # HINT: g_loss_minimax = -mean softplus(f); differentiate softplus and divide by N = f.size.
    # d/df [-softplus(f)] = -sigma(f); at f = -6, |grad| = sigma(-6)/N ~ 0.0025/N.
    return -sigmoid_array(xp, f) / f.size
    # END EXERCISE


def g_loss_nonsaturating(fake_logits: Tensor) -> Tensor:
    """The generator's non-saturating loss: maximise log D(G(z)) instead of minimising log(1 - D(G(z))).

        g_loss = -mean log D(G(z)) = -mean log sigma(f) = mean softplus(-f)

    Same fixed point as the minimax loss, but steep where D rejects the fakes.
    fake_logits: (N, ...) -> scalar.
    """
    fake_logits, _ = loss_inputs("g_loss_nonsaturating", "fake logits", fake_logits, 1.0)
    return mean(softplus(-fake_logits))


def g_loss_nonsaturating_grad(fake_logits: Any) -> Any:
    """d g_loss_nonsaturating / d f by hand, an array of f's shape; steep where D rejects the fakes (f << 0)."""
    xp, f, _ = loss_arrays("g_loss_nonsaturating_grad", "fake logits", fake_logits, 1.0)
    # BEGIN EXERCISE minimax-grad (10 points): the gradients of the GAN losses on D's logits, by hand
    # HINT: g_loss_nonsaturating = mean softplus(-f): the chain rule gives a minus sign, and
    #   sigma(-f) = 1 - sigma(f).
    # d/df softplus(-f) = -sigma(-f) = sigma(f) - 1; at f = -6, |grad| ~ 1/N, about e^6 ~ 400 times the minimax one.
    return (sigmoid_array(xp, f) - 1.0) / f.size
    # END EXERCISE


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
    f, _ = loss_inputs("lsgan_g_loss", "fake outputs", fake_out, 1.0)
    return 0.5 * mean((f - 1.0) * (f - 1.0))


def lsgan_g_loss_grad(fake_out: Any) -> Any:
    """By hand: d/df 1/2 (f - 1)^2 = f - 1, over N."""
    _, f, _ = loss_arrays("lsgan_g_loss_grad", "fake outputs", fake_out, 1.0)
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
    f, _ = loss_inputs("wgan_g_loss", "fake outputs", fake_out, 1.0)
    return -mean(f)


def wgan_g_loss_grad(fake_out: Any) -> Any:
    """By hand: -1/N on every output."""
    xp, f, _ = loss_arrays("wgan_g_loss_grad", "fake outputs", fake_out, 1.0)
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
    f, _ = loss_inputs("hinge_g_loss", "fake outputs", fake_out, 1.0)
    return -mean(f)


def hinge_g_loss_grad(fake_out: Any) -> Any:
    """By hand: -1/N on every output."""
    xp, f, _ = loss_arrays("hinge_g_loss_grad", "fake outputs", fake_out, 1.0)  # errors name this function
    return xp.full_like(f, -1.0 / f.size)
