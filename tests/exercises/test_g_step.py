"""Exercise g-step: the generator's step through a fixed D (minigan/gan/trainer.py, GAN.g_step)."""

import numpy as np
import pytest
from _gan_helpers import LR, put_stale_gradients, replayed_noise, sigma, small_gan, snapshot

import minigan
from minigan.gan import losses
from minigan.gan import trainer as gan


def expected_step(g, n, g_loss):
    """G's loss on the same z the step will draw, and its gradient with respect to G's weights."""
    with replayed_noise():
        y = g.sample_labels(n) if g.n_classes else None
        z = g.sample_z(n)
        fake_out = g.D(g.G(z)) if y is None else g.D(g.G(z, y), y)
        loss = g_loss(fake_out)
    grads = minigan.grad(loss, list(g.G.parameters()))
    return float(loss.data), [gr.numpy() for gr in grads], fake_out.numpy()


@pytest.mark.parametrize("loss,g_loss", [("nonsaturating", losses.g_loss_nonsaturating),
                                         ("minimax", losses.g_loss_minimax)])
def test_g_step_moves_g_down_its_loss_and_leaves_d_alone(loss, g_loss):
    g = small_gan(loss=loss)
    value, grads, f = expected_step(g, 8, g_loss)
    G0, D0 = snapshot(g.G), snapshot(g.D)
    put_stale_gradients(g.G)
    out = g.g_step(8)
    for after, before, grad in zip(snapshot(g.G), G0, grads):
        np.testing.assert_allclose(after, before - LR * grad, rtol=1e-10, atol=1e-12)
    for after, before in zip(snapshot(g.D), D0):
        np.testing.assert_array_equal(after, before)
    assert all(p.grad is None for p in g.D.parameters()), "D's weights must collect no gradient in the G step"
    assert all(p.requires_grad for p in g.D.parameters()), "D must be trainable again after the G step"
    assert out["g_loss"] == pytest.approx(value, rel=1e-12)
    assert out["d_fake_g"] == pytest.approx(sigma(f).mean(), rel=1e-12)


def test_a_conditional_g_step_passes_the_labels_to_g_and_d():
    g = small_gan(n_classes=3)
    value, grads, _ = expected_step(g, 6, losses.g_loss_nonsaturating)
    G0 = snapshot(g.G)
    out = g.g_step(6)
    for after, before, grad in zip(snapshot(g.G), G0, grads):
        np.testing.assert_allclose(after, before - LR * grad, rtol=1e-10, atol=1e-12)
    assert out["g_loss"] == pytest.approx(value, rel=1e-12)


def test_a_nan_loss_moves_nothing():
    g = small_gan()
    next(iter(g.D.parameters())).data[0, 0] = np.nan  # D now scores everything NaN
    G0 = snapshot(g.G)
    with pytest.raises(gan.NonFiniteLossError, match="G's loss became nan"):
        g.g_step(4)
    for after, before in zip(snapshot(g.G), G0):
        np.testing.assert_array_equal(after, before)
