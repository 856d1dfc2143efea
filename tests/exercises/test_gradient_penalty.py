"""Exercise gradient-penalty: WGAN-GP's penalty and its double backprop (minigan/gan/trainer.py, gradient_penalty)."""

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.gan import trainer as gan


def unit_critic(w):
    D = nn.Linear(2, 1).double()
    D.weight.data[...] = np.array([w])
    return D


def test_a_linear_critic_has_the_same_gradient_everywhere(rng):
    """D(x) = w . x + b: grad_x D = w at every x_hat, so the penalty is (|w| - 1)^2 whatever eps is."""
    real, fake = minigan.tensor(rng.standard_normal((4, 2))), minigan.tensor(rng.standard_normal((4, 2)))
    assert float(gan.gradient_penalty(unit_critic([0.6, 0.8]), real, fake).data) == pytest.approx(0.0, abs=1e-10)
    assert float(gan.gradient_penalty(unit_critic([1.2, 1.6]), real, fake).data) == pytest.approx(1.0, rel=1e-9)


def test_the_penalty_differentiates_into_the_critic_weights(rng):
    """d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|: a gradient through grad_x D, so a second derivative."""
    D = unit_critic([1.2, 1.6])
    real, fake = minigan.tensor(rng.standard_normal((4, 2))), minigan.tensor(rng.standard_normal((4, 2)))
    (gw,) = minigan.grad(gan.gradient_penalty(D, real, fake), [D.weight])
    w = np.array([[1.2, 1.6]])
    np.testing.assert_allclose(gw.numpy(), 2 * (2.0 - 1) * w / 2.0, rtol=1e-9)


class Recording(nn.Module):
    """Calls D and keeps what it was given, to look at the interpolates."""

    def __init__(self, D):
        super().__init__()
        self.D, self.seen = D, []

    def forward(self, x, *labels):
        self.seen.append(x)
        return self.D(x, *labels) if labels else self.D(x)


def test_interpolates_are_fresh_leaves_on_the_segments_from_fake_to_real(rng):
    D = Recording(unit_critic([0.6, 0.8]))
    real = minigan.tensor(rng.standard_normal((6, 2)) + 3.0, requires_grad=True)
    fake = minigan.tensor(rng.standard_normal((6, 2)), requires_grad=True)
    gan.gradient_penalty(D, real, fake).backward()
    (x_hat,) = D.seen
    assert x_hat.is_leaf and x_hat.requires_grad
    eps = (x_hat.numpy() - fake.numpy()) / (real.numpy() - fake.numpy())  # x_hat = eps real + (1 - eps) fake
    np.testing.assert_allclose(eps[:, 0], eps[:, 1], rtol=1e-9)  # one eps per sample
    assert ((eps >= 0) & (eps <= 1)).all() and np.ptp(eps[:, 0]) > 0
    assert real.grad is None and fake.grad is None, "the penalty must not reach the samples (detach them)"


def critic():
    minigan.manual_seed(3)
    return nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 1)).double()


def test_a_tanh_critic_matches_its_gradient_norm_by_hand(rng):
    """With real = fake, x_hat = x whatever eps is: grad_x D(x) = W1^T ((1 - tanh^2(W1 x + b1)) * w2)."""
    D = critic()
    x = rng.standard_normal((5, 2))
    w1, b1, w2 = D[0].weight.numpy(), D[0].bias.numpy(), D[2].weight.numpy()
    grads = ((1 - np.tanh(x @ w1.T + b1) ** 2) * w2) @ w1  # (N, 2)
    expected = np.mean((np.linalg.norm(grads, axis=1) - 1) ** 2)
    got = gan.gradient_penalty(D, minigan.tensor(x), minigan.tensor(x))
    assert float(got.data) == pytest.approx(expected, rel=1e-9)


def test_the_weight_gradient_matches_central_differences(rng):
    D = critic()
    x = minigan.tensor(rng.standard_normal((4, 2)))
    weights = list(D.parameters())
    grads = minigan.grad(gan.gradient_penalty(D, x, x), weights[:-1])  # the last bias does not enter grad_x D
    for w, g in zip(weights[:-1], grads):
        numerical = np.zeros(w.shape)
        for i in np.ndindex(w.shape):
            old = w.data[i]
            w.data[i] = old + 1e-6
            plus = float(gan.gradient_penalty(D, x, x).data)
            w.data[i] = old - 1e-6
            minus = float(gan.gradient_penalty(D, x, x).data)
            w.data[i] = old
            numerical[i] = (plus - minus) / 2e-6
        np.testing.assert_allclose(g.numpy(), numerical, rtol=1e-5, atol=1e-8)


def test_a_conditional_critic_gets_the_labels(rng):
    """D(x, y) = (w . x)(1 + y) with |w| = 1: gradient norms 1 + y, so labels 0 and 1 give (0 + 1) / 2."""
    lin = unit_critic([0.6, 0.8])

    def D(x, y):
        return lin(x) * (1.0 + y)

    real, fake = minigan.tensor(rng.standard_normal((2, 2))), minigan.tensor(rng.standard_normal((2, 2)))
    y = minigan.tensor(np.array([[0.0], [1.0]]))
    assert float(gan.gradient_penalty(D, real, fake, y).data) == pytest.approx(0.5, rel=1e-9)
