"""Exercise bce: binary cross-entropy on probabilities and on logits, and its gradient by hand (minigan/losses.py)."""

import warnings

import numpy as np
import pytest

import minigan
from minigan import losses


def sigma(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_bce_is_minus_the_mean_log_likelihood(rng):
    p = rng.uniform(0.05, 0.95, (6, 1))
    y = rng.integers(0, 2, (6, 1)).astype(np.float64)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(losses.bce(minigan.tensor(p), minigan.tensor(y)).data) == pytest.approx(expected, rel=1e-12)
    assert float(losses.bce(minigan.tensor(p), 1.0).data) == pytest.approx(-np.mean(np.log(p)), rel=1e-12)


def test_bce_of_a_certain_wrong_answer_is_large_but_finite():
    loss = losses.bce(minigan.tensor(np.array([0.0, 1.0], dtype=np.float32)), minigan.tensor(np.array([1.0, 0.0])))
    assert loss.dtype == np.float32
    assert float(loss.data) == pytest.approx(-np.log(1e-7), rel=0.02)  # ~16, not inf


def test_bce_grad_by_hand_equals_the_formula_and_autograd(rng):
    p = rng.uniform(0.05, 0.95, (5, 2))
    y = rng.integers(0, 2, (5, 2)).astype(np.float64)
    by_hand = losses.bce_grad(p, y)
    np.testing.assert_allclose(by_hand, (p - y) / (p * (1 - p)) / p.size, rtol=1e-12)
    pt = minigan.tensor(p, requires_grad=True)
    (auto,) = minigan.grad(losses.bce(pt, minigan.tensor(y)), [pt])
    np.testing.assert_allclose(by_hand, auto.numpy(), rtol=1e-10)


def test_bce_grad_is_zero_where_the_clamp_holds_p():
    g = losses.bce_grad(np.array([0.0, 0.5, 1.0]), np.array([1.0, 1.0, 0.0]))
    np.testing.assert_allclose(g, [0.0, (0.5 - 1.0) / 0.25 / 3, 0.0])


def test_bce_with_logits_equals_bce_of_the_sigmoid(rng):
    logits = rng.standard_normal((7, 1)) * 2
    y = rng.integers(0, 2, (7, 1)).astype(np.float64)
    p = sigma(logits)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    got = losses.bce_with_logits(minigan.tensor(logits), minigan.tensor(y))
    assert float(got.data) == pytest.approx(expected, rel=1e-10)


def test_bce_with_logits_is_exact_for_huge_logits_in_float32():
    logits = minigan.tensor(np.array([100.0, -100.0], dtype=np.float32))
    assert float(losses.bce_with_logits(logits, 0.0).data) == pytest.approx(50.0)  # (100 + 0) / 2
    assert float(losses.bce_with_logits(logits, 1.0).data) == pytest.approx(50.0)  # (0 + 100) / 2
    assert losses.bce_with_logits(logits, 1.0).dtype == np.float32


def test_bce_with_logits_grad_by_hand_is_sigma_minus_y_over_n(rng):
    logits = rng.standard_normal((4, 3)) * 3
    y = rng.integers(0, 2, (4, 3)).astype(np.float64)
    by_hand = losses.bce_with_logits_grad(logits, y)
    np.testing.assert_allclose(by_hand, (sigma(logits) - y) / 12, rtol=1e-10)
    lt = minigan.tensor(logits, requires_grad=True)
    (auto,) = minigan.grad(losses.bce_with_logits(lt, minigan.tensor(y)), [lt])
    np.testing.assert_allclose(by_hand, auto.numpy(), rtol=1e-10)


def test_bce_with_logits_raises_no_floating_point_warning_at_extreme_logits():
    # sigmoid then log would take log(0) (or exp of a huge number) here: a stable form never does.
    logits = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = losses.bce_with_logits(minigan.tensor(logits), 1.0)
        assert float(loss.data) == pytest.approx((1000.0 + 100.0 + np.log(2.0)) / 5)
        g = losses.bce_with_logits_grad(logits, 0.0)
        np.testing.assert_allclose(g, [0.0, 0.0, 0.1, 0.2, 0.2], atol=1e-12)
