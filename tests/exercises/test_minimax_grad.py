"""Exercise minimax-grad: the GAN losses' gradients on D's logits, by hand (minigan/gan/losses.py)."""

import numpy as np

import minigan
from minigan.gan import losses


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_d_loss_grad_by_hand(rng):
    r, f = rng.standard_normal((6, 1)) * 2, rng.standard_normal((4, 1)) * 2  # batches of two sizes
    g_real, g_fake = losses.d_loss_grad(r, f)
    np.testing.assert_allclose(g_real, (sigma(r) - 1) / 6, rtol=1e-10)
    np.testing.assert_allclose(g_fake, sigma(f) / 4, rtol=1e-10)
    assert (g_real < 0).all() and (g_fake > 0).all()  # D pushes real logits up, fake ones down


def test_d_loss_grad_equals_autograd(rng):
    r = minigan.tensor(rng.standard_normal((5, 1)), requires_grad=True)
    f = minigan.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    auto = minigan.grad(losses.d_loss(r, f), [r, f])
    for by_hand, a in zip(losses.d_loss_grad(r, f), auto):
        np.testing.assert_allclose(by_hand, a.numpy(), rtol=1e-10)


def test_g_loss_minimax_grad_by_hand_and_autograd(rng):
    f = rng.standard_normal((8, 1)) * 2
    np.testing.assert_allclose(losses.g_loss_minimax_grad(f), -sigma(f) / 8, rtol=1e-10)
    ft = minigan.tensor(f, requires_grad=True)
    (auto,) = minigan.grad(losses.g_loss_minimax(ft), [ft])
    np.testing.assert_allclose(losses.g_loss_minimax_grad(f), auto.numpy(), rtol=1e-10)


def test_g_loss_nonsaturating_grad_by_hand_and_autograd(rng):
    f = rng.standard_normal((8, 1)) * 2
    np.testing.assert_allclose(losses.g_loss_nonsaturating_grad(f), (sigma(f) - 1) / 8, rtol=1e-10)
    ft = minigan.tensor(f, requires_grad=True)
    (auto,) = minigan.grad(losses.g_loss_nonsaturating(ft), [ft])
    np.testing.assert_allclose(losses.g_loss_nonsaturating_grad(f), auto.numpy(), rtol=1e-10)


def test_the_minimax_loss_saturates_where_d_rejects_the_fakes():
    f = np.full((4, 1), -6.0)  # D is sure these are fake
    minimax, nonsat = losses.g_loss_minimax_grad(f), losses.g_loss_nonsaturating_grad(f)
    np.testing.assert_allclose(np.abs(nonsat) / np.abs(minimax), np.exp(6.0), rtol=1e-9)  # e^6 ~ 400 times
