"""minigan.functional's log_softmax: values, stability at huge scores, first and second derivatives (float64).

The other functions are tested through their layers (tests/test_nn.py) and the ops (tests/test_ops.py)."""

import math

import numpy as np
import pytest

import minigan
from minigan import functional as F


def reference_log_softmax(s, axis=-1):
    s = np.asarray(s, dtype=np.float64)
    s = s - s.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_log_softmax_matches_the_formula_along_its_axis(xp_backend, rng, axis):
    s = rng.standard_normal((4, 5, 3)) * 3
    out = F.log_softmax(minigan.tensor(s, dtype="float64"), axis=axis)
    assert out.shape == s.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), reference_log_softmax(s, axis), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.exp(out.numpy()).sum(axis), 1.0, rtol=1e-12)  # rows of probabilities


def test_log_softmax_is_stable_for_huge_scores():
    s = minigan.tensor(np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]], dtype=np.float32))
    out = F.log_softmax(s)
    assert out.dtype == np.float32
    out = out.numpy()
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], [0.0, -1e4, -2e4], rtol=1e-6)
    np.testing.assert_allclose(out[1], [-math.log(3)] * 3, rtol=1e-6)


def test_log_softmax_first_and_second_derivatives(xp_backend, rng):
    # + 300: large scores, where the detached shift is what keeps e^s finite
    s = minigan.tensor(rng.standard_normal((3, 4)) + 300.0, dtype="float64", requires_grad=True)
    assert minigan.gradcheck(lambda t: F.log_softmax(t), [s])
    assert minigan.gradgradcheck(lambda t: F.log_softmax(t), [s])
    assert minigan.gradgradcheck(lambda t: F.log_softmax(t, axis=0), [s])
    # d/ds_i of sum_k w_k log p_k = w_i - p_i sum_k w_k
    w = rng.standard_normal((3, 4))
    (g,) = minigan.grad((F.log_softmax(s) * minigan.tensor(w)).sum(), [s])
    p = np.exp(reference_log_softmax(s.numpy()))
    np.testing.assert_allclose(g.numpy(), w - p * w.sum(1, keepdims=True), rtol=1e-10, atol=1e-12)


def test_log_softmax_refuses_what_it_cannot_take():
    with pytest.raises(TypeError, match="wrap it with minigan.tensor"):
        F.log_softmax(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="astype"):
        F.log_softmax(minigan.tensor(np.zeros((2, 3), dtype=np.int64)))
