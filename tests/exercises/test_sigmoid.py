"""Exercise sigmoid: the logistic sigmoid's forward and backward (minigan/ops.py, Sigmoid)."""

import numpy as np

import minigan
from minigan import ops


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_forward_is_one_over_one_plus_e_to_the_minus_x(rng):
    x = rng.standard_normal((4, 5)) * 3
    np.testing.assert_allclose(ops.sigmoid(minigan.tensor(x)).numpy(), sigma(x), rtol=1e-12, atol=1e-15)


def test_forward_is_finite_and_right_for_huge_logits_in_float32():
    x = np.array([-100.0, -30.0, 0.0, 30.0, 100.0], dtype=np.float32)
    y = ops.sigmoid(minigan.tensor(x))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-12)


def test_backward_is_sigma_times_one_minus_sigma(rng):
    x = rng.standard_normal((3, 4))
    gy = rng.standard_normal((3, 4))
    xt = minigan.tensor(x, requires_grad=True)
    (gx,) = minigan.grad(ops.sigmoid(xt), [xt], grad_outputs=minigan.tensor(gy))
    np.testing.assert_allclose(gx.numpy(), gy * sigma(x) * (1 - sigma(x)), rtol=1e-10)


def test_first_and_second_derivatives_match_central_differences(rng):
    x = minigan.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert minigan.gradcheck(ops.sigmoid, [x])
    assert minigan.gradgradcheck(ops.sigmoid, [x])  # backward written with differentiable ops


def test_float32_gradient_stays_float32():
    x = minigan.tensor(np.array([0.5, -2.0], dtype=np.float32), requires_grad=True)
    ops.sigmoid(x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), sigma(np.array([0.5, -2.0])) * sigma(np.array([-0.5, 2.0])), rtol=1e-6)
