"""Exercise sigmoid: the logistic sigmoid's forward and backward (minigan/autograd/elementwise.py, Sigmoid)."""

import warnings

import numpy as np

import minigan
from minigan import autograd as ops


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


def test_extreme_logits_raise_no_floating_point_warning():
    # A naive 1 / (1 + exp(-x)) gets the right numbers here, but only after exp overflows with a
    # RuntimeWarning; a numerically safe sigmoid never takes e to a large power (underflow to 0 is
    # harmless). So overflow is an error here, not a warning.
    for dtype in (np.float32, np.float64):
        x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0], dtype=dtype)
        with np.errstate(over="raise", divide="raise", invalid="raise"), warnings.catch_warnings():
            warnings.simplefilter("error")
            y = ops.sigmoid(minigan.tensor(x))
            assert y.dtype == dtype
            np.testing.assert_allclose(y.numpy(), [0, 0, sigma(-30.0), 0.5, sigma(30.0), 1, 1], rtol=1e-6,
                                       atol=1e-7 if dtype == np.float32 else 1e-12)
            xt = minigan.tensor(x, requires_grad=True)
            ops.sigmoid(xt).sum().backward()
            assert np.all(np.isfinite(xt.grad.numpy()))
