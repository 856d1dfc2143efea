"""Tests of minigan.autograd: one table of every differentiable op, each checked four ways on
every backend (forward against NumPy, first and second derivatives against central
differences, float32 kept through forward and backward), then broadcasting, Python-number
operands, astype, and the errors a user can cause."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import minigan
from minigan import backend

# --------------------------------------------------------------------------- input makers
# Each maker takes an rng and returns a float64 host array. Inputs of non-smooth ops keep a
# margin from their kinks, so a finite-difference step of 1e-6 never crosses one.


def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def uniform(lo, hi, *shape):
    return lambda rng: rng.uniform(lo, hi, shape)


def away_from_zero(*shape, gap=0.2):
    """|x| in [gap, 1.5] with random signs (relu, leaky_relu, abs, 1 / x)."""
    return lambda rng: rng.uniform(gap, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def away_from_bounds(*shape):
    """Values inside (-0.3, 0.3) or outside +-[0.7, 1.2]: never near a clip bound of +-0.5."""

    def make(rng):
        inside = rng.uniform(-0.3, 0.3, shape)
        outside = rng.uniform(0.7, 1.2, shape) * rng.choice([-1.0, 1.0], shape)
        return np.where(rng.random(shape) < 0.5, inside, outside)

    return make


def distinct(*shape):
    """Values at least 0.1 apart, so max has one winner that a small step cannot change."""
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n) * 0.1 - 0.3 * n / 10).reshape(shape)


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
ROWS_REPEATED = np.array([0, 2, 0, 0])
COLS_REPEATED = np.array([3, 0, 3])


def on_backend(a):
    """A host index or mask as an array of the current backend (indices live where x lives)."""
    return backend.current().asarray(a)


# --------------------------------------------------------------------------- the op table


@dataclass
class Case:
    fn: Callable[..., Any]  # tensors -> tensor
    inputs: list  # input makers
    ref: Callable[..., Any]  # host arrays -> host array, the same math in NumPy


def _reduction_cases():
    cases = {}
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            tag = f"axis={axis}-keepdims={keepdims}".replace(" ", "")
            cases[f"sum-{tag}"] = Case(
                lambda x, a=axis, k=keepdims: minigan.sum(x, a, k), [normal(2, 3, 4)],
                lambda x, a=axis, k=keepdims: np.sum(x, axis=a, keepdims=k))
            cases[f"mean-{tag}"] = Case(
                lambda x, a=axis, k=keepdims: x.mean(a, keepdims=k), [normal(2, 3, 4)],
                lambda x, a=axis, k=keepdims: np.mean(x, axis=a, keepdims=k))
            cases[f"max-{tag}"] = Case(
                lambda x, a=axis, k=keepdims: minigan.max(x, a, k), [distinct(2, 3, 4)],
                lambda x, a=axis, k=keepdims: np.max(x, axis=a, keepdims=k))
    for axis, keepdims in ((None, False), (1, False), ((0, 2), True), (-1, True)):
        tag = f"axis={axis}-keepdims={keepdims}".replace(" ", "")
        cases[f"var-{tag}"] = Case(
            lambda x, a=axis, k=keepdims: minigan.var(x, a, k), [normal(2, 3, 4)],
            lambda x, a=axis, k=keepdims: np.var(x, axis=a, keepdims=k))
    return cases


OPS: dict[str, Case] = {
    # arithmetic, with broadcasting
    "add": Case(lambda a, b: a + b, [normal(2, 3), normal(2, 3)], np.add),
    "add-(3,1)+(1,4)": Case(minigan.autograd.add, [normal(3, 1), normal(1, 4)], np.add),
    "add-tensor+0d": Case(lambda a, b: a + b, [normal(2, 3), normal()], np.add),
    "sub-(3,1)-(1,4)": Case(lambda a, b: a - b, [normal(3, 1), normal(1, 4)], np.subtract),
    "sub-0d-tensor": Case(lambda a, b: a - b, [normal(), normal(2, 3)], np.subtract),
    "mul-(2,3,4)*(4,)": Case(lambda a, b: a * b, [normal(2, 3, 4), normal(4)], np.multiply),
    "mul-0d*tensor": Case(lambda a, b: a * b, [normal(), normal(3, 2)], np.multiply),
    "div": Case(lambda a, b: a / b, [normal(2, 3), away_from_zero(2, 3, gap=0.5)], np.divide),
    "div-(3,1)/(1,4)": Case(lambda a, b: a / b, [normal(3, 1), away_from_zero(1, 4, gap=0.5)], np.divide),
    "neg": Case(lambda x: -x, [normal(2, 3)], np.negative),
    "pow-3": Case(lambda x: x**3, [uniform(0.5, 1.5, 2, 3)], lambda x: x**3),
    "pow-0.5": Case(lambda x: minigan.pow(x, 0.5), [uniform(0.5, 1.5, 2, 3)], np.sqrt),
    "pow--1.5": Case(lambda x: x.pow(-1.5), [uniform(0.5, 1.5, 2, 3)], lambda x: x**-1.5),
    # Python numbers on either side (the reflected operators)
    "x*0.5": Case(lambda x: x * 0.5, [normal(2, 3)], lambda x: x * 0.5),
    "3*x": Case(lambda x: 3 * x, [normal(2, 3)], lambda x: 3 * x),
    "x+1": Case(lambda x: x + 1, [normal(2, 3)], lambda x: x + 1),
    "1-x": Case(lambda x: 1 - x, [normal(2, 3)], lambda x: 1 - x),
    "2-x": Case(lambda x: 2.0 - x, [normal(2, 3)], lambda x: 2.0 - x),
    "x-1": Case(lambda x: x - 1, [normal(2, 3)], lambda x: x - 1),
    "1/x": Case(lambda x: 1 / x, [away_from_zero(2, 3, gap=0.5)], lambda x: 1 / x),
    "x/2": Case(lambda x: x / 2, [normal(2, 3)], lambda x: x / 2),
    "x**2": Case(lambda x: x**2, [normal(2, 3)], lambda x: x**2),
    # matrix products
    "matmul-2d": Case(lambda a, b: a @ b, [normal(2, 3), normal(3, 4)], np.matmul),
    "matmul-batched": Case(minigan.matmul, [normal(2, 3, 4), normal(2, 4, 2)], np.matmul),
    "matmul-batch@matrix": Case(lambda a, b: a @ b, [normal(2, 3, 4), normal(4, 2)], np.matmul),
    "matmul-broadcast-batch": Case(lambda a, b: a @ b, [normal(2, 1, 3, 4), normal(3, 4, 2)], np.matmul),
    # elementwise functions
    "exp": Case(minigan.exp, [normal(2, 3)], np.exp),
    "log": Case(lambda x: x.log(), [uniform(0.5, 2.0, 2, 3)], np.log),
    "sqrt": Case(minigan.sqrt, [uniform(0.5, 2.0, 2, 3)], np.sqrt),
    "abs": Case(minigan.abs, [away_from_zero(2, 3)], np.abs),
    "clip": Case(lambda x: minigan.clip(x, -0.5, 0.5), [away_from_bounds(3, 4)], lambda x: np.clip(x, -0.5, 0.5)),
    "clip-min-only": Case(lambda x: x.clip(min=-0.5), [away_from_bounds(3, 4)], lambda x: np.maximum(x, -0.5)),
    "clip-max-only": Case(lambda x: x.clamp(max=0.5), [away_from_bounds(3, 4)], lambda x: np.minimum(x, 0.5)),
    # activations
    "relu": Case(minigan.relu, [away_from_zero(3, 4)], lambda x: np.maximum(x, 0)),
    "leaky_relu": Case(lambda x: minigan.leaky_relu(x, 0.2), [away_from_zero(3, 4)],
                       lambda x: np.where(x > 0, x, 0.2 * x)),
    "sigmoid": Case(minigan.sigmoid, [normal(3, 4)], lambda x: 1 / (1 + np.exp(-x))),
    "tanh": Case(minigan.tanh, [normal(3, 4)], np.tanh),
    "softplus": Case(minigan.softplus, [normal(3, 4)], lambda x: np.log1p(np.exp(x))),
    # reductions: added below, one case per (op, axis, keepdims)
    # shapes
    "reshape": Case(lambda x: minigan.reshape(x, (4, 6)), [normal(2, 3, 4)], lambda x: x.reshape(4, 6)),
    "reshape-minus1": Case(lambda x: x.reshape(-1), [normal(2, 3, 4)], lambda x: x.reshape(-1)),
    "flatten-1": Case(lambda x: x.flatten(1), [normal(2, 3, 4)], lambda x: x.reshape(2, 12)),
    "transpose-reverse": Case(minigan.transpose, [normal(2, 3, 4)], np.transpose),
    "transpose-axes": Case(lambda x: minigan.transpose(x, (2, 0, 1)), [normal(2, 3, 4)],
                           lambda x: np.transpose(x, (2, 0, 1))),
    "T": Case(lambda x: x.T, [normal(2, 3)], lambda x: x.T),
    "Tensor.transpose(0,2)": Case(lambda x: x.transpose(0, 2), [normal(2, 3, 4)], lambda x: np.swapaxes(x, 0, 2)),
    "permute": Case(lambda x: x.permute(1, 2, 0), [normal(2, 3, 4)], lambda x: np.transpose(x, (1, 2, 0))),
    "getitem-slices": Case(lambda x: x[1:, ::2], [normal(3, 4)], lambda x: x[1:, ::2]),
    "getitem-int": Case(lambda x: x[1], [normal(3, 4)], lambda x: x[1]),
    "getitem-ints": Case(lambda x: x[2, -1], [normal(3, 4)], lambda x: x[2, -1]),
    "getitem-ellipsis-none": Case(lambda x: x[..., None, 1], [normal(2, 3, 4)], lambda x: x[..., None, 1]),
    "getitem-intarray-repeated": Case(lambda x: x[on_backend(ROWS_REPEATED)], [normal(3, 4)],
                                      lambda x: x[ROWS_REPEATED]),
    "getitem-two-intarrays-repeated": Case(lambda x: x[on_backend(ROWS_REPEATED[:3]), on_backend(COLS_REPEATED)],
                                           [normal(3, 4)], lambda x: x[ROWS_REPEATED[:3], COLS_REPEATED]),
    "getitem-slice-and-intarray": Case(lambda x: x[:, on_backend(COLS_REPEATED)], [normal(3, 4)],
                                       lambda x: x[:, COLS_REPEATED]),
    "getitem-tensor-index": Case(lambda x: x[minigan.tensor(ROWS_REPEATED)], [normal(3, 4)],
                                 lambda x: x[ROWS_REPEATED]),
    "getitem-bool-mask": Case(lambda x: x[on_backend(MASK)], [normal(3, 4)], lambda x: x[MASK]),
    "concat-axis1": Case(lambda a, b, c: minigan.concat([a, b, c], axis=1), [normal(2, 1), normal(2, 3), normal(2, 2)],
                         lambda a, b, c: np.concatenate([a, b, c], axis=1)),
    "concat-axis0": Case(lambda a, b: minigan.concat([a, b]), [normal(1, 3), normal(2, 3)],
                         lambda a, b: np.concatenate([a, b])),
    "stack-axis0": Case(lambda a, b: minigan.stack([a, b]), [normal(2, 3), normal(2, 3)],
                        lambda a, b: np.stack([a, b])),
    "stack-axis-1": Case(lambda a, b, c: minigan.stack([a, b, c], axis=-1), [normal(2, 3)] * 3,
                         lambda a, b, c: np.stack([a, b, c], axis=-1)),
    "broadcast_to": Case(lambda x: minigan.broadcast_to(x, (2, 3, 4)), [normal(3, 1)],
                         lambda x: np.broadcast_to(x, (2, 3, 4))),
    "sum_to-(3,1)": Case(lambda x: minigan.sum_to(x, (3, 1)), [normal(2, 3, 4)],
                         lambda x: x.sum(axis=(0, 2)).reshape(3, 1)),
    "sum_to-(4,)": Case(lambda x: minigan.sum_to(x, (4,)), [normal(2, 3, 4)], lambda x: x.sum(axis=(0, 1))),
    "where": Case(lambda a, b: minigan.where(on_backend(MASK), a, b), [normal(3, 4), normal(1, 4)],
                  lambda a, b: np.where(MASK, a, b)),
    "where-number": Case(lambda x: minigan.where(on_backend(MASK), x, 0.5), [normal(3, 4)],
                         lambda x: np.where(MASK, x, 0.5)),
    # a composite, to exercise several backward formulas feeding each other
    "composite": Case(lambda x, w: minigan.sigmoid(minigan.leaky_relu(x @ w, 0.2)).mean(axis=0),
                      [normal(4, 3), normal(3, 2)],
                      lambda x, w: np.mean(1 / (1 + np.exp(-np.where(x @ w > 0, x @ w, 0.2 * (x @ w)))), axis=0)),
}
OPS.update(_reduction_cases())


def _make(name, dtype, seed=0):
    """The case and its inputs: host arrays, and leaf tensors of ``dtype`` on the current backend."""
    case = OPS[name]
    rng = np.random.default_rng(seed)
    host = [make(rng) for make in case.inputs]
    xs = [minigan.tensor(h, dtype=dtype, requires_grad=True) for h in host]
    return case, host, xs


# --------------------------------------------------------------------------- the four checks


@pytest.mark.parametrize("name", list(OPS))
def test_forward_matches_numpy(name, xp_backend):
    case, host, xs = _make(name, "float64")
    y = case.fn(*xs)
    assert isinstance(y, minigan.Tensor)
    assert backend.get_array_module(y.data) is xp_backend.xp
    expected = case.ref(*host)
    assert y.shape == np.shape(expected)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(OPS))
def test_gradcheck(name, xp_backend):
    case, _, xs = _make(name, "float64")
    assert minigan.gradcheck(case.fn, xs)


@pytest.mark.parametrize("name", list(OPS))
def test_gradgradcheck(name, xp_backend):
    case, _, xs = _make(name, "float64")
    assert minigan.gradgradcheck(case.fn, xs)


@pytest.mark.parametrize("name", list(OPS))
def test_float32_stays_float32_forward_and_backward(name, xp_backend):
    """NumPy 2 turns float32 into float64 when it meets a float64 array; no op may do that,
    in the forward pass, the backward pass, or the recorded backward pass (create_graph)."""
    case, host, xs = _make(name, "float32")
    y = case.fn(*xs)
    assert y.dtype == np.float32, f"{name}: forward gave {y.dtype}"
    r = minigan.tensor(np.random.default_rng(1).standard_normal(y.shape), dtype="float32")
    (y * r).sum().backward()
    for i, (x, h) in enumerate(zip(xs, host)):
        assert x.grad is not None, f"{name}: input {i} got no gradient"
        assert x.grad.dtype == np.float32, f"{name}: input {i} got a {x.grad.dtype} gradient"
        assert x.grad.shape == h.shape, f"{name}: input {i} has shape {h.shape}, its gradient {x.grad.shape}"
    # The float32 gradient agrees with the float64 one to float32 precision.
    _, _, xs64 = _make(name, "float64")
    (case.fn(*xs64) * minigan.tensor(r.numpy().astype(np.float64))).sum().backward()
    for x, x64 in zip(xs, xs64):
        np.testing.assert_allclose(x.grad.numpy(), x64.grad.numpy(), rtol=1e-4, atol=1e-5)
    # Second order: the gradients of gradients stay float32 too.
    grads = minigan.grad(case.fn(*xs).sum(), xs, create_graph=True)
    total = minigan.tensor(np.float32(0.0))
    for g in grads:
        assert g.dtype == np.float32
        total = total + (g * g).sum()
    if total.requires_grad:  # linear ops: the gradient is constant and has no graph
        for g2 in minigan.grad(total, xs):
            assert g2 is None or g2.dtype == np.float32


def test_the_table_covers_every_differentiable_op():
    """A new op in minigan.autograd must be added to OPS (the names below are the public ops)."""
    covered = " ".join(OPS)
    public = ["add", "sub", "mul", "div", "neg", "pow", "matmul", "exp", "log", "sqrt", "abs", "clip", "relu",
              "leaky_relu", "sigmoid", "tanh", "softplus", "sum", "mean", "max", "var", "reshape", "transpose",
              "getitem", "concat", "stack", "broadcast_to", "sum_to", "where"]
    assert [op for op in public if op not in covered] == []
    from minigan.autograd import arithmetic, elementwise, reductions, shapes
    defined = {name for module in (arithmetic, elementwise, reductions, shapes) for name, value in vars(module).items()
               if isinstance(value, type) and issubclass(value, minigan.Function) and value is not minigan.Function}
    assert defined == {
        "SumTo", "BroadcastTo", "Add", "Sub", "Mul", "Div", "Neg", "Pow", "MatMul", "Exp", "Log",
        "Sqrt", "Abs", "Clip", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "Sum", "Mean", "Max",
        "Reshape", "Transpose", "GetItem", "GetItemGrad", "Concat", "AsType"}


# --------------------------------------------------------------------------- broadcasting and operands


def test_broadcast_gradients_are_summed_back_to_each_input_shape(xp_backend):
    a = minigan.tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)
    b = minigan.tensor(np.arange(4.0).reshape(1, 4), requires_grad=True)
    y = a * b
    assert y.shape == (3, 4)
    y.sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 0 + 1 + 2 + 3.0))  # sum of b
    np.testing.assert_array_equal(b.grad.numpy(), np.full((1, 4), 0 + 1 + 2.0))  # sum of a


def test_0d_tensor_operand_gets_the_summed_gradient(xp_backend):
    x = minigan.tensor(np.ones((2, 3, 4)), requires_grad=True)
    s = minigan.tensor(np.array(2.5), requires_grad=True)
    y = (x * s).sum()
    y.backward()
    assert s.grad.shape == ()
    assert s.grad.item() == pytest.approx(24.0)
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3, 4), 2.5))


@pytest.mark.parametrize(
    "expr, value, slope",
    [
        (lambda x: 2 - x, 2 - 3.0, -1.0),
        (lambda x: 1 / x, 1 / 3.0, -1 / 9.0),
        (lambda x: 3 * x, 9.0, 3.0),
        (lambda x: x**2, 9.0, 6.0),
        (lambda x: 2 + x, 5.0, 1.0),
        (lambda x: 6 / x, 2.0, -6 / 9.0),
    ],
    ids=["2-x", "1/x", "3*x", "x**2", "2+x", "6/x"],
)
def test_python_number_operands_give_values_and_slopes(expr, value, slope, xp_backend):
    x = minigan.tensor([3.0], requires_grad=True)
    y = expr(x)
    assert isinstance(y, minigan.Tensor) and y.dtype == np.float32
    y.backward(minigan.tensor([1.0]))
    assert y.numpy()[0] == pytest.approx(value, rel=1e-6)
    assert x.grad.numpy()[0] == pytest.approx(slope, rel=1e-6)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "@"])
def test_ndarray_op_tensor_returns_a_tensor(op, xp_backend):
    xp = xp_backend.xp
    a = xp.asarray(np.array([[1.0, 2.0], [3.0, 4.0]]))
    t = minigan.tensor(np.array([[0.5, 1.0], [1.5, 2.0]]), requires_grad=True)
    y = {"+": lambda: a + t, "-": lambda: a - t, "*": lambda: a * t, "/": lambda: a / t, "@": lambda: a @ t}[op]()
    assert isinstance(y, minigan.Tensor)
    ha, ht = backend.to_numpy(a), t.numpy()
    expected = {"+": ha + ht, "-": ha - ht, "*": ha * ht, "/": ha / ht, "@": ha @ ht}[op]
    np.testing.assert_allclose(y.numpy(), expected)
    y.sum().backward()
    assert t.grad.shape == t.shape


def test_get_item_repeated_indices_add_up(xp_backend):
    x = minigan.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    x[on_backend(np.array([0, 2, 0, 0]))].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([[3.0] * 4, [0.0] * 4, [1.0] * 4]))
    x.grad = None
    x[on_backend(MASK)].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), MASK.astype(np.float64))


def test_get_item_with_a_boolean_tensor_mask(xp_backend):
    x = minigan.tensor(np.array([-1.0, 2.0, -3.0, 4.0]), requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])
    (y * minigan.tensor(np.array([10.0, 20.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 10.0, 0.0, 20.0])


def test_where_with_two_numbers(xp_backend):
    y = minigan.where(on_backend(np.array([True, False, True])), 1.0, 0.0)
    assert isinstance(y, minigan.Tensor) and y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [1.0, 0.0, 1.0])


def test_max_ties_share_the_gradient(xp_backend):
    x = minigan.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_sigmoid_and_softplus_are_finite_at_large_logits(xp_backend):
    x = minigan.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        s = minigan.sigmoid(x)
        sp = minigan.softplus(x)
        (s.sum() + sp.sum()).backward()
    np.testing.assert_allclose(s.numpy(), [0.0, 9.357623e-14, 0.5, 1.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(sp.numpy(), [0.0, 9.357623e-14, np.log(2.0), 30.0, 1000.0], rtol=1e-6, atol=1e-7)
    assert np.all(np.isfinite(x.grad.numpy()))


# --------------------------------------------------------------------------- astype


def test_astype_round_trip_keeps_values_and_converts_the_gradient_back(xp_backend):
    x = minigan.tensor(np.array([0.1, -2.0, 3.5]), requires_grad=True)  # float64
    y = x.astype("float32")
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), np.array([0.1, -2.0, 3.5], dtype=np.float32))
    z = y.astype(np.float64)
    assert z.dtype == np.float64
    (z * minigan.tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])
    assert x.astype("float64") is x  # no copy, no graph node, when the dtype is already right


# --------------------------------------------------------------------------- bad input


def test_matmul_bad_shapes_name_both(xp_backend):
    a, b = minigan.zeros(2, 3), minigan.zeros(4, 5)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match="at least 2 axes"):
        minigan.matmul(minigan.zeros(3), minigan.zeros(3, 2))


def test_reshape_to_the_wrong_size_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        minigan.zeros(2, 3).reshape(4, 2)


def test_pow_needs_a_number_exponent():
    x = minigan.ones(2)
    with pytest.raises(TypeError, match="exponent"):
        x ** minigan.ones(2)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="min, max"):
        minigan.clip(minigan.ones(2))


@pytest.mark.parametrize("fn", [minigan.relu, minigan.sigmoid, minigan.tanh, minigan.softplus, minigan.leaky_relu])
def test_activations_refuse_integer_tensors(fn):
    with pytest.raises(TypeError, match="floating-point"):
        fn(minigan.tensor([1, 2, 3]))


def test_concat_and_stack_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="differ"):
        minigan.concat([minigan.zeros(2, 3), minigan.zeros(3, 2)], axis=0)
    with pytest.raises(ValueError, match="one shape"):
        minigan.stack([minigan.zeros(2, 3), minigan.zeros(3, 2)])
    with pytest.raises(ValueError, match="at least one"):
        minigan.concat([])
