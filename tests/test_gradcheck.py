"""Tests of minigan.gradcheck: it passes correct backward passes, and it catches wrong ones
(first derivatives with gradcheck, second derivatives with gradgradcheck), naming the input,
the element and both values; it refuses float32."""

import re

import numpy as np
import pytest

import minigan
from minigan import Function, GradcheckError, Tensor, backend
from minigan.gradcheck import numerical_grad


def t64(host, requires_grad=True):
    return minigan.tensor(np.asarray(host, dtype=np.float64), requires_grad=requires_grad)


class WrongExp(Function):
    """e^x with a backward that is off by a factor 2."""

    def forward(self, x):
        return backend.get_array_module(x).exp(x)

    def backward(self, gy):
        return 2.0 * gy * self.output()


class WrongSecondInput(Function):
    """a * b with the gradient for b wrong (it uses b instead of a)."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, gy * b


class SquareFrozenBackward(Function):
    """x^2 with a backward of the right value, built from raw arrays: it cannot be differentiated
    again, so its second derivative comes out as 0 instead of 2 gy."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        (x,) = self.inputs
        return gy * Tensor(2.0 * x.data)


class SquareWrongInGy(Function):
    """x^2 with a backward of the right value, 2 x gy, plus (gy - detach(gy)): zero in value but
    with slope 1 in gy. Only a check that differentiates with respect to gy sees it."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        (x,) = self.inputs
        return gy * x * 2.0 + (gy - gy.detach())


def _numbers(message):
    """The two values a GradcheckError reports: (backward pass, central differences)."""
    m = re.search(r"backward pass gives (\S+) but central differences give (\S+) ", message)
    return float(m.group(1)), float(m.group(2))


# --------------------------------------------------------------------------- first order


def test_gradcheck_passes_a_correct_function(xp_backend):
    a, b = t64([[0.5, -1.0], [2.0, 0.3]]), t64([[1.5, 0.2], [-0.7, 1.1]])
    assert minigan.gradcheck(lambda a, b: minigan.tanh(a @ b) * a, [a, b]) is True


def test_gradcheck_passes_a_function_with_several_outputs(xp_backend):
    x = t64([0.5, -1.0, 2.0])
    assert minigan.gradcheck(lambda x: (minigan.exp(x), x * x, minigan.sigmoid(x).sum()), [x])


def test_gradcheck_skips_inputs_that_do_not_require_grad(xp_backend):
    x, c = t64([0.5, 1.5]), t64([2.0, 3.0], requires_grad=False)
    assert minigan.gradcheck(lambda x, c: x * c, [x, c])


def test_gradcheck_leaves_the_inputs_unchanged(xp_backend):
    host = np.array([[0.1, 0.2], [0.3, 0.4]])
    x = t64(host)
    minigan.gradcheck(minigan.exp, [x])
    np.testing.assert_array_equal(x.numpy(), host)
    assert x.grad is None  # minigan.grad, not backward: .grad is untouched


def test_gradcheck_catches_a_wrong_backward_and_names_input_index_and_values(xp_backend):
    host = np.array([[0.1, -0.4, 0.8], [1.2, -1.0, 0.0]])
    x = t64(host)
    with pytest.raises(GradcheckError) as info:
        minigan.gradcheck(lambda x: WrongExp()(x), [x])
    message = str(info.value)
    assert "input 0" in message and "shape (2, 3)" in message
    index = tuple(int(i) for i in re.search(r"at index \((\d+), (\d+)\)", message).groups())
    # The loss is L = sum(e^x * r) with r ~ N(0, 1) from seed 0: dL/dx = e^x r, the backward gives 2 e^x r.
    r = np.random.default_rng(0).standard_normal(host.shape)
    analytic, numerical = _numbers(message)
    assert analytic == pytest.approx(2 * np.exp(host[index]) * r[index], rel=1e-6)
    assert numerical == pytest.approx(np.exp(host[index]) * r[index], rel=1e-6)
    # It reports the worst element: the largest |e^x r| of all.
    assert index == np.unravel_index(np.argmax(np.abs(np.exp(host) * r)), host.shape)
    assert "6 of 6 elements off" in message


def test_gradcheck_names_the_second_input_when_only_it_is_wrong(xp_backend):
    a, b = t64([1.0, 2.0, 3.0]), t64([-1.0, 0.5, 4.0])
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\): at index \(\d,\)"):
        minigan.gradcheck(lambda a, b: WrongSecondInput()(a, b), [a, b])


def test_gradcheck_input_index_counts_inputs_without_grad(xp_backend):
    c, a, b = t64([1.0], requires_grad=False), t64([1.0, 2.0]), t64([3.0, 4.0])
    with pytest.raises(GradcheckError, match="input 2"):
        minigan.gradcheck(lambda c, a, b: WrongSecondInput()(a, b) * c, [c, a, b])


def test_gradcheck_can_return_false_instead_of_raising(xp_backend):
    x = t64([0.5])
    assert minigan.gradcheck(lambda x: WrongExp()(x), [x], raise_exception=False) is False


def test_gradcheck_catches_a_missing_gradient(xp_backend):
    """An output computed through detach() has no graph: the backward pass says 0."""
    x = t64([0.5, 2.0])
    with pytest.raises(GradcheckError, match="backward pass gives -?0 but"):
        minigan.gradcheck(lambda x: x.detach() * x.detach() + 0.0 * x, [x])


# --------------------------------------------------------------------------- second order


def test_gradgradcheck_passes_correct_second_derivatives(xp_backend):
    x, w = t64([[0.5, -1.0], [0.2, 0.7]]), t64([[1.0, 0.3], [-0.4, 0.9]])
    assert minigan.gradgradcheck(lambda x, w: minigan.sigmoid(x @ w) * minigan.exp(x), [x, w]) is True


def test_gradgradcheck_catches_a_non_differentiable_backward(xp_backend):
    x = t64([0.5, -1.5, 2.0])
    f = lambda x: SquareFrozenBackward()(x)  # noqa: E731
    assert minigan.gradcheck(f, [x])  # the first derivative is right ...
    with pytest.raises(GradcheckError) as info:  # ... its derivative is not
        minigan.gradgradcheck(f, [x])
    message = str(info.value)
    assert "input 0" in message
    analytic, numerical = _numbers(message)
    assert analytic == 0.0 and numerical != 0.0


def test_gradgradcheck_catches_a_wrong_derivative_in_the_incoming_gradient(xp_backend):
    x = t64([0.5, -1.5, 2.0])
    f = lambda x: SquareWrongInGy()(x)  # noqa: E731
    assert minigan.gradcheck(f, [x])
    with pytest.raises(GradcheckError, match="input 1"):  # input 1 is v, the weight on f's output
        minigan.gradgradcheck(f, [x])


def test_gradgradcheck_with_an_input_that_does_not_require_grad(xp_backend):
    x, c = t64([0.5, -1.5]), t64([2.0, 3.0], requires_grad=False)
    assert minigan.gradgradcheck(lambda x, c: x * x * c, [x, c])
    with pytest.raises(GradcheckError, match="input 0"):
        minigan.gradgradcheck(lambda x, c: SquareFrozenBackward()(x) * c, [x, c])


def test_gradgradcheck_on_a_piecewise_linear_op(xp_backend):
    """relu's gradient does not depend on x (away from 0): a None second derivative counts as 0."""
    x = t64([0.5, -1.5, 2.0])
    assert minigan.gradgradcheck(minigan.relu, [x])


# --------------------------------------------------------------------------- inputs it refuses


def test_float32_inputs_are_refused_with_a_pointer_to_float64():
    x = minigan.tensor([1.0, 2.0], requires_grad=True)  # float32
    with pytest.raises(TypeError, match="input 0 is float32; checks need float64"):
        minigan.gradcheck(minigan.exp, [x])
    with pytest.raises(TypeError, match="float64"):
        minigan.gradgradcheck(minigan.exp, [x])


def test_non_tensor_inputs_and_no_input_requiring_grad_are_refused():
    with pytest.raises(TypeError, match="input 0 is a ndarray, not a Tensor"):
        minigan.gradcheck(minigan.exp, [np.zeros(2)])
    with pytest.raises(ValueError, match="no input requires a gradient"):
        minigan.gradcheck(minigan.exp, [t64([1.0], requires_grad=False)])
    with pytest.raises(ValueError, match="^gradgradcheck: no input requires a gradient"):
        minigan.gradgradcheck(minigan.exp, [t64([1.0], requires_grad=False)])


def test_numerical_grad_is_accurate_to_eps_squared(xp_backend):
    x = t64([0.3, -0.8])
    r = [minigan.backend.current().asarray(np.array([1.0, -2.0]))]
    (g,) = numerical_grad(lambda x: x**3, [x], r, eps=1e-4)
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, 3 * np.array([0.3, -0.8]) ** 2 * np.array([1.0, -2.0]), rtol=1e-7)
    c = t64([5.0, 7.0], requires_grad=False)
    (gc,) = numerical_grad(lambda x, c: x * c, [x, c], r, eps=1e-4, wrt=[c])  # f still gets both inputs
    np.testing.assert_allclose(gc, np.array([0.3, -0.8]) * np.array([1.0, -2.0]), rtol=1e-9)
