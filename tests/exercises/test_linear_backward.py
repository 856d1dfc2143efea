"""Exercise linear-backward: the backward pass of y = x W^T + b (minigan/functional.py, Linear.backward)."""

import numpy as np

import minigan
from minigan import functional as F
from minigan import nn


def test_gradients_are_gy_w_gy_transposed_x_and_the_batch_sum(rng):
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    gy = rng.standard_normal((4, 2))
    xt, wt, bt = (minigan.tensor(a, requires_grad=True) for a in (x, w, b))
    gx, gw, gb = minigan.grad(F.linear(xt, wt, bt), [xt, wt, bt], grad_outputs=minigan.tensor(gy))
    np.testing.assert_allclose(gx.numpy(), gy @ w, rtol=1e-12)  # (N, out) @ (out, in) -> (N, in)
    np.testing.assert_allclose(gw.numpy(), gy.T @ x, rtol=1e-12)  # (out, N) @ (N, in) -> (out, in)
    np.testing.assert_allclose(gb.numpy(), gy.sum(axis=0), rtol=1e-12)


def test_gradcheck_with_and_without_a_bias(rng):
    x, w, b = (minigan.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 4), (2, 4), (2,)))
    assert minigan.gradcheck(F.linear, [x, w, b])
    assert minigan.gradcheck(lambda x, w: F.linear(x, w), [x, w])


def test_second_derivatives_match_central_differences(rng):
    x, w, b = (minigan.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2), (2, 2), (2,)))
    assert minigan.gradgradcheck(F.linear, [x, w, b])


def test_only_the_weights_need_a_gradient(rng):
    x = minigan.tensor(rng.standard_normal((5, 3)))  # data: no gradient wanted
    layer = nn.Linear(3, 2).double()
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((2, 5)) @ x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), [5.0, 5.0])
    assert x.grad is None


def test_a_layer_on_a_batch_of_sequences(rng):
    layer = nn.Linear(3, 2).double()
    x = minigan.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.shape == (2, 4, 3) and layer.weight.grad.shape == (2, 3)
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(layer.weight.numpy().sum(axis=0), (2, 4, 3)))
