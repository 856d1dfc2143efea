"""Tests of minigan.autograd: the graph walk (reuse, diamonds, depth), accumulation into
.grad, grad modes, minigan.grad, higher-order derivatives (a gradient penalty included),
the errors a user can cause, and the Tensor's conveniences."""

import sys

import numpy as np
import pytest

import minigan
from minigan import Function, Tensor


def t64(values, requires_grad=True):
    return minigan.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


class CountedIdentity(Function):
    """y = x, counting how often its backward runs (a reused node must run once)."""

    calls = 0

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        type(self).calls += 1
        return gy


class Split(Function):
    """Two outputs: the first and second halves of a vector."""

    def forward(self, x):
        n = x.shape[0] // 2
        return x[:n].copy(), x[n:].copy()

    def backward(self, g1, g2):
        return minigan.concat([g1, g2])


# --------------------------------------------------------------------------- the graph walk


def test_tensor_used_twice_gets_both_contributions(xp_backend):
    x = t64([1.0, -2.0, 0.5])
    y = x * x + x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, -2.0, 0.5]) + 1)


def test_diamond_visits_the_shared_node_once_and_accumulates(xp_backend):
    CountedIdentity.calls = 0
    x = t64([0.3, -0.7])
    a = CountedIdentity()(minigan.exp(x))  # the shared node
    b = a * 2.0
    c = a * 3.0
    y = (b * c).sum()  # y = 6 e^{2x}
    y.backward()
    assert CountedIdentity.calls == 1
    np.testing.assert_allclose(x.grad.numpy(), 12 * np.exp(2 * np.array([0.3, -0.7])), rtol=1e-12)


def test_diamond_where_one_branch_is_longer(xp_backend):
    """A consumer reached by paths of different lengths must wait for all of them."""
    CountedIdentity.calls = 0
    x = t64([1.5])
    a = CountedIdentity()(x * x)  # a = x^2
    long = ((a + 1.0) * 2.0 - 1.0) * 0.5  # = a + 0.5
    y = (a * long).sum()  # = x^4 + x^2 / 2, dy/dx = 4x^3 + x
    y.backward()
    assert CountedIdentity.calls == 1
    assert x.grad.item() == pytest.approx(4 * 1.5**3 + 1.5)


def test_deep_chain_needs_no_recursion(xp_backend):
    n = 5000
    assert n > sys.getrecursionlimit()  # a recursive walk would fail here
    x = t64([1.0])
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0001**n, rel=1e-9)


def test_multi_output_function_and_an_unused_output(xp_backend):
    x = t64([1.0, 2.0, 3.0, 4.0])
    first, second = Split()(x)
    (first * 3.0).sum().backward()  # second is unused: its gradient counts as zero
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0, 0.0, 0.0])
    x.grad = None
    first, second = Split()(x)
    (first * second).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0, 1.0, 2.0])


# --------------------------------------------------------------------------- accumulation into .grad


def test_backward_twice_accumulates_and_none_starts_fresh(xp_backend):
    x = t64([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()  # a second, fresh graph
    np.testing.assert_allclose(x.grad.numpy(), 3.0 + 2 * np.array([1.0, 2.0]))
    x.grad = None
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_backward_with_an_explicit_gradient(xp_backend):
    x = t64([1.0, 2.0, 3.0])
    y = x * x
    y.backward(t64([1.0, 0.0, -1.0], requires_grad=False))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, -6.0])


def test_backward_on_a_leaf_fills_its_own_grad(xp_backend):
    x = t64([2.0])
    x.backward()
    assert x.grad.item() == 1.0


def test_gradients_without_create_graph_record_nothing(xp_backend):
    x = t64([1.0, 2.0])
    (x**3).sum().backward()
    assert not x.grad.requires_grad and x.grad.creator is None


def test_leaves_that_do_not_require_grad_get_none(xp_backend):
    x = t64([1.0, 2.0])
    c = t64([3.0, 4.0], requires_grad=False)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert not c.requires_grad and c.is_leaf


def test_frozen_leaf_with_requires_grad_off(xp_backend):
    w = t64([1.0, 2.0])
    w.requires_grad_(False)
    x = t64([3.0, 4.0])
    (x * w).sum().backward()
    assert w.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])


def test_detach_stops_the_gradient(xp_backend):
    x = t64([2.0, -3.0])
    y = (x.detach() * x).sum()  # only the second factor is differentiated
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -3.0])
    d = x.detach()
    assert not d.requires_grad and d.creator is None
    np.testing.assert_array_equal(d.numpy(), x.numpy())


# --------------------------------------------------------------------------- grad modes


def test_no_grad_records_nothing(xp_backend):
    x = t64([1.0, 2.0])
    with minigan.no_grad():
        assert not minigan.is_grad_enabled()
        y = x * 2.0 + 1.0
    assert minigan.is_grad_enabled()
    assert not y.requires_grad and y.creator is None
    np.testing.assert_array_equal(y.numpy(), [3.0, 5.0])
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        y.sum().backward()


def test_no_grad_as_a_decorator(xp_backend):
    @minigan.no_grad()
    def sample(x):
        """Docstring kept."""
        return x * 2.0

    x = t64([1.0])
    y = sample(x)
    assert not y.requires_grad and y.creator is None
    assert sample.__name__ == "sample" and sample.__doc__ == "Docstring kept."
    assert minigan.is_grad_enabled()
    assert (x * 2.0).requires_grad  # recording is back on after the call


def test_enable_grad_inside_no_grad(xp_backend):
    x = t64([3.0])
    with minigan.no_grad():
        with minigan.enable_grad():
            y = x * x
        z = x * x
    assert y.requires_grad and y.creator is not None
    assert not z.requires_grad
    y.sum().backward()
    assert x.grad.item() == 6.0


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with minigan.no_grad():
            raise ZeroDivisionError
    assert minigan.is_grad_enabled()
    with minigan.set_grad_enabled(False):
        assert not minigan.is_grad_enabled()
    assert minigan.is_grad_enabled()


# --------------------------------------------------------------------------- minigan.grad


def test_grad_returns_gradients_and_leaves_dot_grad_alone(xp_backend):
    x = t64([1.0, 2.0])
    (gx,) = minigan.grad((x**2).sum(), x)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])
    assert x.grad is None
    x.grad = t64([10.0, 10.0], requires_grad=False)
    minigan.grad((x**2).sum(), [x])
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 10.0])


def test_grad_with_several_outputs_inputs_and_grad_outputs(xp_backend):
    a = t64([1.0, 2.0])
    b = t64([3.0, -1.0])
    y1 = a * b  # dy1/da = b, dy1/db = a
    y2 = (a * a).sum()  # dy2/da = 2a
    v1 = t64([1.0, 10.0], requires_grad=False)
    ga, gb = minigan.grad([y1, y2], [a, b], grad_outputs=[v1, t64(2.0, requires_grad=False)])
    np.testing.assert_allclose(ga.numpy(), [1.0 * 3.0 + 2 * 2 * 1.0, 10.0 * -1.0 + 2 * 2 * 2.0])
    np.testing.assert_allclose(gb.numpy(), [1.0 * 1.0, 10.0 * 2.0])


def test_grad_of_an_unused_input_is_none(xp_backend):
    x = t64([1.0])
    unused = t64([5.0])
    gx, gu = minigan.grad((x * 3.0).sum(), [x, unused])
    assert gx.item() == 3.0 and gu is None
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        minigan.grad((x * 3.0).sum(), [x, unused], allow_unused=False)


def test_grad_with_respect_to_an_intermediate_tensor(xp_backend):
    x = t64([2.0])
    h = x * x
    y = (h * 3.0 + h).sum()
    gh, gx = minigan.grad(y, [h, x])
    assert gh.item() == 4.0
    assert gx.item() == pytest.approx(4.0 * 2 * 2.0)


def test_grad_counts_mismatch_is_an_error():
    x = t64([1.0])
    with pytest.raises(ValueError, match="1 outputs but 2 grad_outputs"):
        minigan.grad([(x * 2.0).sum()], [x], grad_outputs=[None, None])


# --------------------------------------------------------------------------- higher order


def test_second_derivative_of_a_cube_with_grad(xp_backend):
    x = t64([0.5, -2.0, 3.0])
    (g,) = minigan.grad((x**3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    assert g.requires_grad
    (g2,) = minigan.grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(g2.numpy(), 6 * x.numpy())
    (g3,) = minigan.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), [6.0, 6.0, 6.0])


def test_second_derivative_of_a_cube_with_backward(xp_backend):
    x = t64([0.5, -2.0, 3.0])
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.creator is not None
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy())


def test_gradient_penalty_matches_a_numerical_derivative(xp_backend):
    """WGAN-GP's term: P(W) = mean_i (||grad_x D(x_i)|| - 1)^2 for D(x) = tanh(x W1) . w2,
    backpropagated into the weights, against central differences in each weight."""
    rng = np.random.default_rng(3)
    x_host = rng.standard_normal((4, 3))
    w1_host, w2_host = rng.standard_normal((3, 5)), rng.standard_normal((5, 1))

    def penalty(w1, w2):
        x = minigan.tensor(x_host, requires_grad=True)
        d = minigan.tanh(x @ w1) @ w2
        (gx,) = minigan.grad(d.sum(), x, create_graph=True)
        norms = ((gx * gx).sum(axis=1) + 1e-12) ** 0.5
        return ((norms - 1.0) ** 2).mean()

    w1 = minigan.tensor(w1_host.copy(), requires_grad=True)  # copies: numerical() perturbs the host arrays
    w2 = minigan.tensor(w2_host.copy(), requires_grad=True)
    p = penalty(w1, w2)
    p.backward()

    def numerical(which):
        g = np.zeros_like(which)
        for k in np.ndindex(which.shape):
            vals = []
            for step in (1e-6, -1e-6):
                which[k] += step
                vals.append(_penalty_value(x_host, w1_host, w2_host))
                which[k] -= step
            g[k] = (vals[0] - vals[1]) / 2e-6
        return g

    np.testing.assert_allclose(w1.grad.numpy(), numerical(w1_host), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(w2.grad.numpy(), numerical(w2_host), rtol=1e-5, atol=1e-8)
    assert minigan.gradcheck(penalty, [w1, w2])  # the same check, by the library's own tool
    assert p.item() == pytest.approx(_penalty_value(x_host, w1_host, w2_host), rel=1e-12)


def _penalty_value(x, w1, w2):
    """The penalty in plain NumPy, with grad_x D derived by hand: (1 - tanh^2(x W1)) diag(w2) W1^T."""
    t = np.tanh(x @ w1)
    gx = ((1 - t * t) * w2[:, 0]) @ w1.T
    return np.mean((np.sqrt((gx * gx).sum(axis=1) + 1e-12) - 1) ** 2)


# --------------------------------------------------------------------------- errors a user can cause


def test_backward_on_a_non_scalar_needs_a_gradient(xp_backend):
    y = t64([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(2,\) needs its gradient.*y\.sum\(\)\.backward\(\)"):
        y.backward()


def test_backward_on_a_tensor_without_grad():
    y = minigan.tensor([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        y.backward()


def test_backward_gradient_of_the_wrong_shape_or_dtype(xp_backend):
    y = t64([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        y.backward(t64([1.0, 1.0, 1.0], requires_grad=False))
    with pytest.raises(TypeError, match="float32 but the tensor is float64"):
        y.backward(minigan.tensor([1.0, 1.0]))


def test_requires_grad_on_an_integer_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="floating-point"):
        minigan.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="int"):
        Tensor(np.arange(3)).requires_grad_()


# --------------------------------------------------------------------------- Tensor conveniences


def test_tensor_dtype_rules(xp_backend):
    assert minigan.tensor([1.0, 2.0]).dtype == np.float32  # Python floats: float32
    assert minigan.tensor(0.5).dtype == np.float32
    assert minigan.tensor(np.zeros(2)).dtype == np.float64  # a float64 array stays float64
    assert minigan.tensor(np.zeros(2, dtype=np.float32)).dtype == np.float32
    assert minigan.tensor([1, 2]).dtype.kind == "i"  # ints stay ints
    assert minigan.tensor([1.0], dtype="float64").dtype == np.float64
    assert minigan.tensor([True, False]).dtype == np.bool_
    t = minigan.tensor([1.0, 2.0])
    assert minigan.tensor(t).dtype == np.float32 and minigan.tensor(t) is not t


def test_repr_shows_values_dtype_and_grad_fn():
    x = minigan.tensor([1.5, -2.0], requires_grad=True)
    assert repr(x) == "tensor([ 1.5, -2. ], requires_grad=True)"
    y = x * 2.0
    assert "3." in repr(y) and "-4." in repr(y) and "grad_fn=<MulBackward>" in repr(y)
    assert "dtype=float64" in repr(minigan.tensor(np.array([1.0])))


def test_T_numpy_item_len_and_shape_properties(xp_backend):
    host = np.arange(6.0).reshape(2, 3)
    x = minigan.tensor(host)
    assert x.T.shape == (3, 2)
    np.testing.assert_array_equal(x.T.numpy(), host.T)
    assert isinstance(x.numpy(), np.ndarray)
    np.testing.assert_array_equal(x.numpy(), host)
    assert x[1, 2].item() == 5.0 and isinstance(x[1, 2].item(), float)
    assert len(x) == 2 and x.ndim == 2 and x.numel() == 6 and x.shape == (2, 3)


def test_transpose_swaps_two_dims_like_torch_and_permute_reorders_all(xp_backend):
    host = np.arange(24.0).reshape(2, 3, 4)
    x = minigan.tensor(host, requires_grad=True)
    y = x.transpose(0, 2)
    assert y.shape == (4, 3, 2)
    np.testing.assert_array_equal(y.numpy(), np.swapaxes(host, 0, 2))
    np.testing.assert_array_equal(x.transpose(-1, -2).numpy(), np.swapaxes(host, -1, -2))
    assert x.transpose().shape == (4, 3, 2)
    z = x.permute(1, 2, 0)
    assert z.shape == (3, 4, 2)
    np.testing.assert_array_equal(z.numpy(), np.transpose(host, (1, 2, 0)))
    np.testing.assert_array_equal(x.permute((2, 0, 1)).numpy(), np.transpose(host, (2, 0, 1)))
    w = minigan.tensor(np.arange(24.0).reshape(4, 3, 2))
    (y * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.swapaxes(np.arange(24.0).reshape(4, 3, 2), 0, 2))


def test_comparisons_give_boolean_tensors_without_a_graph(xp_backend):
    x = t64([1.0, 2.0, 3.0])
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal(m.numpy(), [False, True, True])
    np.testing.assert_array_equal((x <= minigan.tensor(np.array([1.0, 1.0, 3.0]))).numpy(), [True, False, True])


def test_functions_do_not_keep_their_outputs_alive():
    import gc
    import weakref

    x = t64([1.0])
    y = x * 2.0
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None
