"""Exercise d-step: the discriminator's step with G held fixed (minigan/gan/trainer.py, GAN.d_step)."""

import numpy as np
import pytest
from _gan_helpers import LR, put_stale_gradients, replayed_noise, sigma, small_gan, snapshot

import minigan
from minigan.gan import losses as gan_losses
from minigan.gan import trainer as gan


def expected_step(g, real, y=None, penalty=None):
    """D's loss on the same z the step will draw, and its gradient with respect to D's weights."""
    n = real.shape[0]
    with replayed_noise():
        y_fake = g.sample_labels(n) if g.n_classes else None
        z = g.sample_z(n)
        with minigan.no_grad():
            fake = g.G(z) if y_fake is None else g.G(z, y_fake)
        real_out = g.D(real) if y is None else g.D(real, y)
        fake_out = g.D(fake) if y_fake is None else g.D(fake, y_fake)
        loss = penalty(real_out, fake_out, fake) if penalty else gan_losses.d_loss(real_out, fake_out)
    grads = minigan.grad(loss, list(g.D.parameters()))
    return float(loss.data), [gr.numpy() for gr in grads], real_out.numpy(), fake_out.numpy()


def test_d_step_moves_d_down_its_loss_and_leaves_g_alone(rng):
    g = small_gan()
    real = minigan.tensor(rng.standard_normal((8, 2)))
    value, grads, r, f = expected_step(g, real)
    D0, G0 = snapshot(g.D), snapshot(g.G)
    put_stale_gradients(g.D)
    out = g.d_step(real)
    for after, before, grad in zip(snapshot(g.D), D0, grads):
        np.testing.assert_allclose(after, before - LR * grad, rtol=1e-10, atol=1e-12)
    for after, before in zip(snapshot(g.G), G0):
        np.testing.assert_array_equal(after, before)
    assert all(p.grad is None for p in g.G.parameters()), "the fakes must carry no graph back into G"
    assert out["d_loss"] == pytest.approx(value, rel=1e-12)
    assert out["d_real"] == pytest.approx(sigma(r).mean(), rel=1e-12)
    assert out["d_fake"] == pytest.approx(sigma(f).mean(), rel=1e-12)


def test_a_conditional_d_step_scores_each_batch_with_its_labels(rng):
    g = small_gan(n_classes=3)
    real, y = minigan.tensor(rng.standard_normal((6, 2))), np.array([0, 1, 2, 2, 1, 0])
    value, grads, _, _ = expected_step(g, real, y)
    D0 = snapshot(g.D)
    out = g.d_step(real, y)
    for after, before, grad in zip(snapshot(g.D), D0, grads):
        np.testing.assert_allclose(after, before - LR * grad, rtol=1e-10, atol=1e-12)
    assert out["d_loss"] == pytest.approx(value, rel=1e-12)


def test_wgan_gp_adds_the_weighted_gradient_penalty(rng):
    g = small_gan(loss="wgan-gp", gp_weight=10.0)
    real = minigan.tensor(rng.standard_normal((5, 2)))

    def critic_loss(real_out, fake_out, fake):
        return gan_losses.wgan_d_loss(real_out, fake_out) + 10.0 * gan.gradient_penalty(g.D, real, fake)

    value, grads, _, _ = expected_step(g, real, penalty=critic_loss)
    D0 = snapshot(g.D)
    out = g.d_step(real)
    assert out["d_loss"] == pytest.approx(value, rel=1e-10)
    for after, before, grad in zip(snapshot(g.D), D0, grads):
        np.testing.assert_allclose(after, before - LR * grad, rtol=1e-9, atol=1e-12)


def test_a_nan_loss_moves_nothing(rng):
    g = small_gan()
    D0 = snapshot(g.D)
    with pytest.raises(gan.NonFiniteLossError, match="D's loss became nan"):
        g.d_step(minigan.tensor(np.full((4, 2), np.nan)))
    for after, before in zip(snapshot(g.D), D0):
        np.testing.assert_array_equal(after, before)
