"""Cross-check against PyTorch (the `bench` extra): same inputs, same outputs and gradients.

Skipped where torch is not installed (CI installs only `.[dev]`); run it after
`pip install -e ".[bench]"`. The float64 gradient checks in the other files are the
authority; this file checks that minigan's *conventions* (weight layouts, padding,
PyTorch's batch-norm statistics) match the library students will meet next.
"""

import numpy as np
import pytest

import minigan
from minigan import functional as F

torch = pytest.importorskip("torch")


def _pair(shape, rng):
    a = rng.standard_normal(shape)
    return minigan.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _compare(ours, theirs, ours_inputs, their_inputs, rng):
    g = rng.standard_normal(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.backward(minigan.tensor(g))
    theirs.backward(torch.tensor(g))
    for a, b in zip(ours_inputs, their_inputs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("stride,padding,kernel,size", [(1, 0, 3, 7), (2, 1, 4, 28), (2, 0, 3, 8), (1, 2, 5, 6)])
def test_conv2d_matches_torch(stride, padding, kernel, size):
    rng = np.random.default_rng(0)
    x, tx = _pair((2, 3, size, size), rng)
    w, tw = _pair((4, 3, kernel, kernel), rng)
    b, tb = _pair((4,), rng)
    ours = F.conv2d(x, w, b, stride=stride, padding=padding)
    theirs = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    _compare(ours, theirs, [x, w, b], [tx, tw, tb], rng)


@pytest.mark.parametrize("stride,padding,kernel,size", [(1, 0, 3, 5), (2, 1, 4, 7), (2, 1, 4, 14), (3, 0, 2, 4)])
def test_conv_transpose2d_matches_torch(stride, padding, kernel, size):
    rng = np.random.default_rng(1)
    x, tx = _pair((2, 3, size, size), rng)
    w, tw = _pair((3, 5, kernel, kernel), rng)
    b, tb = _pair((5,), rng)
    ours = F.conv_transpose2d(x, w, b, stride=stride, padding=padding)
    theirs = torch.nn.functional.conv_transpose2d(tx, tw, tb, stride=stride, padding=padding)
    _compare(ours, theirs, [x, w, b], [tx, tw, tb], rng)


def test_linear_matches_torch():
    rng = np.random.default_rng(2)
    x, tx = _pair((5, 3), rng)
    w, tw = _pair((4, 3), rng)
    b, tb = _pair((4,), rng)
    _compare(F.linear(x, w, b), torch.nn.functional.linear(tx, tw, tb), [x, w, b], [tx, tw, tb], rng)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 5)])
def test_batch_norm_training_matches_torch_including_running_stats(shape):
    rng = np.random.default_rng(3)
    x, tx = _pair(shape, rng)
    w, tw = _pair((3,), rng)
    b, tb = _pair((3,), rng)
    rm, rv = minigan.tensor(np.zeros(3)), minigan.tensor(np.ones(3))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    ours = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    theirs = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=0.1, eps=1e-5)
    _compare(ours, theirs, [x, w, b], [tx, tw, tb], rng)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)
    ours_eval = F.batch_norm(x, rm, rv, w, b, training=False)
    theirs_eval = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=False)
    np.testing.assert_allclose(ours_eval.numpy(), theirs_eval.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softplus", "leaky_relu"])
def test_activations_match_torch(name):
    rng = np.random.default_rng(4)
    x, tx = _pair((4, 7), rng)
    ours = F.leaky_relu(x, 0.2) if name == "leaky_relu" else getattr(F, name)(x)
    theirs = (torch.nn.functional.leaky_relu(tx, 0.2) if name == "leaky_relu"
              else getattr(torch.nn.functional, name)(tx) if name != "sigmoid" else torch.sigmoid(tx))
    _compare(ours, theirs, [x], [tx], rng)


def test_second_derivative_of_a_gradient_penalty_matches_torch():
    """The WGAN-GP pattern: d/dW of (||dD/dx|| - 1)^2 through a conv critic."""
    rng = np.random.default_rng(5)
    x, tx = _pair((3, 2, 6, 6), rng)
    w, tw = _pair((4, 2, 3, 3), rng)
    v, tv = _pair((1, 64), rng)

    def critic(x, w, v, lib):
        f = lib.nn.functional if lib is torch else F
        h = f.leaky_relu(f.conv2d(x, w, None, stride=1, padding=0), 0.2)
        return (h.reshape(3, -1) @ v.T).sum()

    (gx,) = minigan.grad(critic(x, w, v, minigan), x, create_graph=True)
    (tgx,) = torch.autograd.grad(critic(tx, tw, tv, torch), tx, create_graph=True)
    penalty = ((gx.reshape(3, -1) ** 2).sum(axis=1) ** 0.5 - 1.0) ** 2
    tpenalty = ((tgx.reshape(3, -1) ** 2).sum(dim=1) ** 0.5 - 1.0) ** 2
    penalty.mean().backward()
    tpenalty.mean().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-9)
