"""Exercise sum-to: summing a broadcast gradient back to its input's shape (minigan/autograd/shapes.py)."""

import numpy as np
import pytest

import minigan
from minigan import autograd as ops

# (shape of the broadcast array, shape it came from); never equal, so every case runs the exercise.
CASES = [
    ((2, 3), (3,)),
    ((2, 3), (1, 3)),
    ((2, 3), (2, 1)),
    ((4, 2, 3), (2, 1)),
    ((4, 2, 3), ()),
    ((4, 1, 3), (1, 3)),
    ((5, 2, 3), (1, 1, 1)),
]


def by_definition(a, shape):
    """Each element of the small array receives the sum of all its broadcast copies."""
    owner = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), a.shape)
    return np.bincount(owner.ravel(), weights=a.ravel(), minlength=owner.max() + 1).reshape(shape)


@pytest.mark.parametrize("big,shape", CASES, ids=[f"{b}->{s}" for b, s in CASES])
def test_sum_to_adds_up_every_broadcast_copy(big, shape, rng):
    a = rng.standard_normal(big)
    y = ops.sum_to(minigan.tensor(a), shape)
    assert y.shape == shape
    np.testing.assert_allclose(y.numpy(), by_definition(a, shape), rtol=1e-12, atol=1e-12)


def test_broadcast_add_gives_each_input_a_gradient_of_its_own_shape():
    a = minigan.tensor(np.ones((3, 1)), requires_grad=True)
    b = minigan.tensor(np.ones((1, 4)), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 4.0))  # each a[i] was used 4 times
    np.testing.assert_array_equal(b.grad.numpy(), np.full((1, 4), 3.0))


def test_a_bias_gets_the_column_sums_of_the_upstream_gradient(rng):
    x = minigan.tensor(rng.standard_normal((5, 3)))
    bias = minigan.tensor(rng.standard_normal(3), requires_grad=True)
    gy = rng.standard_normal((5, 3))
    (gb,) = minigan.grad(x + bias, [bias], grad_outputs=minigan.tensor(gy))
    np.testing.assert_allclose(gb.numpy(), gy.sum(axis=0), rtol=1e-12)


def test_float32_stays_float32():
    y = ops.sum_to(minigan.ones(4, 2, 3), (2, 1))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), np.full((2, 1), 12.0, dtype=np.float32))
