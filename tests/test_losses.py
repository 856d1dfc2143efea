"""Generic losses (bce, bce_with_logits, mse, cross_entropy): forward against NumPy formulas; by-hand gradient ==
autograd == central differences; second derivatives. The GAN losses are tested in test_gan_losses.py."""

import math
import warnings

import numpy as np
import pytest

import minigan
from minigan import losses
from minigan.gradcheck import numerical_grad


def sig(x):
    """A float64 NumPy sigmoid for the reference formulas."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def reference_cross_entropy(s, y):
    """-mean log softmax(s)[y] in float64 NumPy, the shift by the row's max included."""
    s = np.asarray(s, dtype=np.float64)
    s = s - s.max(1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


# Each case: how to draw its inputs (the differentiable ones, then constant targets),
# the loss on tensors, the by-hand gradient, and the loss written directly in NumPy.
# make(rng) -> (list of host arrays that get gradients, target or None)
CASES = {
    "bce": dict(
        make=lambda rng: ([rng.uniform(0.05, 0.95, (5, 1))], rng.uniform(0, 1, (5, 1))),
        loss=lambda y: (lambda p: losses.bce(p, y)),
        by_hand=lambda y: (lambda p: (losses.bce_grad(p, y),)),
        ref=lambda y: (lambda p: -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
    ),
    "bce_with_logits": dict(
        make=lambda rng: ([rng.standard_normal((6, 1)) * 2], rng.integers(0, 2, (6, 1)).astype(np.float64)),
        loss=lambda y: (lambda logits: losses.bce_with_logits(logits, y)),
        by_hand=lambda y: (lambda logits: (losses.bce_with_logits_grad(logits, y),)),
        ref=lambda y: (lambda logits: -np.mean(y * np.log(sig(logits)) + (1 - y) * np.log(1 - sig(logits)))),
    ),
    "mse": dict(
        make=lambda rng: ([rng.standard_normal((4, 3))], rng.standard_normal((4, 3))),
        loss=lambda b: (lambda a: losses.mse(a, b)),
        by_hand=lambda b: (lambda a: (losses.mse_grad(a, b),)),
        ref=lambda b: (lambda a: np.mean((a - b) ** 2)),
    ),
    "cross_entropy": dict(
        # logits (N, K) with integer labels (N,): the labels are constants, like the targets above
        make=lambda rng: ([rng.standard_normal((5, 4)) * 2], rng.integers(0, 4, 5)),
        loss=lambda y: (lambda s: losses.cross_entropy(s, y)),
        by_hand=lambda y: (lambda s: (losses.cross_entropy_grad(s, y),)),
        ref=lambda y: (lambda s: reference_cross_entropy(s, y)),
    ),
}
NAMES = list(CASES)


def _build(name, xp_backend, rng, dtype):
    case = CASES[name]
    host_inputs, host_y = case["make"](rng)
    xs = [minigan.tensor(a, dtype=dtype, requires_grad=True) for a in host_inputs]
    if host_y is None:
        y = None
    elif host_y.dtype.kind in "iu":  # integer class labels stay integers
        y = minigan.tensor(host_y)
    else:
        y = minigan.tensor(host_y, dtype=dtype)
    return case, host_inputs, host_y, xs, y


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_numpy_formula(name, xp_backend, rng):
    case, host_inputs, host_y, xs, y = _build(name, xp_backend, rng, "float64")
    value = case["loss"](y)(*xs)
    assert value.shape == ()
    expected = case["ref"](host_y)(*host_inputs)
    np.testing.assert_allclose(value.item(), expected, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_by_hand_autograd_and_numerical_gradients_agree(name, xp_backend, rng):
    case, host_inputs, host_y, xs, y = _build(name, xp_backend, rng, "float64")
    f = case["loss"](y)

    # 1. autograd
    f(*xs).backward()
    auto = [x.grad.numpy() for x in xs]
    # 2. by hand, from arrays (and from Tensors: both are accepted)
    by_hand = case["by_hand"](y)(*[x.data for x in xs])
    by_hand_t = case["by_hand"](y)(*xs)
    # 3. central differences in float64
    xp = xp_backend.xp
    numerical = numerical_grad(f, xs, [xp.ones(())], eps=1e-6)

    for a, h, ht, n in zip(auto, by_hand, by_hand_t, numerical):
        assert isinstance(h, xp.ndarray) and h.dtype == np.float64 and h.shape == a.shape
        h = xp_backend.to_numpy(h)
        np.testing.assert_allclose(h, xp_backend.to_numpy(ht), rtol=0, atol=0)
        np.testing.assert_allclose(a, h, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(n, h, rtol=1e-6, atol=1e-9)
    # and the library's own check, on a random projection of every input
    assert minigan.gradcheck(f, xs)


@pytest.mark.parametrize("name", NAMES)
def test_second_derivatives(name, xp_backend, rng):
    case, _, _, xs, y = _build(name, xp_backend, rng, "float64")
    assert minigan.gradgradcheck(case["loss"](y), xs)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_forward_and_backward(name, xp_backend, rng):
    case, _, _, xs, y = _build(name, xp_backend, rng, "float32")
    value = case["loss"](y)(*xs)
    assert value.dtype == np.float32
    value.backward()
    for x, h in zip(xs, case["by_hand"](y)(*xs)):
        assert x.grad.dtype == np.float32
        assert h.dtype == np.float32
        np.testing.assert_allclose(x.grad.numpy(), xp_backend.to_numpy(h), rtol=1e-5, atol=1e-7)


def test_targets_may_be_numbers_or_integer_labels(xp_backend):
    logits = minigan.tensor([[0.5], [-1.0], [2.0]])
    ones = minigan.tensor(np.ones((3, 1), dtype=np.int64))  # 0/1 labels as integers
    by_number = losses.bce_with_logits(logits, 1.0)
    by_labels = losses.bce_with_logits(logits, ones)
    assert by_labels.dtype == np.float32
    np.testing.assert_allclose(by_number.item(), by_labels.item(), rtol=1e-6)
    np.testing.assert_allclose(by_number.item(), np.mean(np.log1p(np.exp(-np.array([0.5, -1.0, 2.0])))), rtol=1e-6)
    # a (1,) target broadcasts to the logits without changing their shape
    np.testing.assert_allclose(losses.bce_with_logits(logits, minigan.tensor([1.0])).item(), by_number.item())
    np.testing.assert_allclose(
        xp_backend.to_numpy(losses.bce_with_logits_grad(logits, 1.0)),
        (sig([[0.5], [-1.0], [2.0]]) - 1) / 3,
        rtol=1e-6,
    )


# --------------------------------------------------------------------------- stability


def test_bce_with_logits_is_exact_at_large_logits_without_warnings(xp_backend):
    logits = minigan.tensor([100.0, -100.0], requires_grad=True)
    # Underflow (e^-100 -> 0) is harmless; overflow, log(0) and 0/0 are what must not happen.
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        wrong = losses.bce_with_logits(logits, minigan.tensor([0.0, 1.0]))  # confidently wrong
        right = losses.bce_with_logits(logits, minigan.tensor([1.0, 0.0]))  # confidently right
        wrong.backward()
        grad_wrong = losses.bce_with_logits_grad(logits, minigan.tensor([0.0, 1.0]))
    np.testing.assert_allclose(wrong.item(), 100.0, rtol=1e-6)
    assert 0.0 <= right.item() < 1e-30
    np.testing.assert_allclose(logits.grad.numpy(), [0.5, -0.5])  # (sigma(l) - y) / N
    np.testing.assert_allclose(xp_backend.to_numpy(grad_wrong), [0.5, -0.5])


def test_bce_on_probabilities_zero_and_one_is_finite(xp_backend):
    p = minigan.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        worst = losses.bce(p, minigan.tensor([1.0, 0.0]))
        best = losses.bce(p, minigan.tensor([0.0, 1.0]))
        worst.backward()
    # p is clamped to [eps, 1 - eps] as float32 numbers: -log(eps) ~ 16.1 and -log(1 - (1 - eps)) ~ 15.9
    lo, hi = np.float32(losses.BCE_EPS), np.float32(1.0 - losses.BCE_EPS)
    expected = (-math.log(lo) - math.log(np.float32(1.0) - hi)) / 2
    np.testing.assert_allclose(worst.item(), expected, rtol=1e-6)  # finite, not inf
    assert 0.0 <= best.item() < 1e-6
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])  # the clamp passes no gradient
    np.testing.assert_array_equal(xp_backend.to_numpy(losses.bce_grad(p, minigan.tensor([1.0, 0.0]))), [0.0, 0.0])


# --------------------------------------------------------------------------- cross-entropy


def test_cross_entropy_gradient_is_softmax_minus_one_hot_at_large_logits(xp_backend, rng):
    s = minigan.tensor(rng.standard_normal((6, 4)) + 500.0, requires_grad=True)  # large logits: the shift matters
    labels = np.array([0, 1, 2, 3, 3, 1])
    y = minigan.tensor(labels)  # on the backend, beside the logits
    assert minigan.gradcheck(lambda t: losses.cross_entropy(t, y), [s])
    assert minigan.gradgradcheck(lambda t: losses.cross_entropy(t, y), [s])
    losses.cross_entropy(s, y).backward()
    host = xp_backend.to_numpy(s.data)
    p = np.exp(host - host.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(s.grad.numpy(), (p - np.eye(4)[labels]) / 6, atol=1e-12)
    np.testing.assert_allclose(xp_backend.to_numpy(losses.cross_entropy_grad(s, y)), (p - np.eye(4)[labels]) / 6,
                               atol=1e-12)


def test_cross_entropy_takes_labels_as_arrays_or_tensors_and_keeps_float32(rng):
    s = rng.standard_normal((7, 10)) * 3
    y = rng.integers(0, 10, 7)
    got = losses.cross_entropy(minigan.tensor(s, dtype="float64"), y)
    assert got.item() == pytest.approx(reference_cross_entropy(s, y), rel=1e-12)
    assert losses.cross_entropy(minigan.tensor(s, dtype="float64"), minigan.tensor(y)).item() == got.item()
    assert losses.cross_entropy(minigan.tensor(s.astype(np.float32)), y).dtype == np.float32


@pytest.mark.parametrize("fn", [losses.cross_entropy, losses.cross_entropy_grad])
def test_cross_entropy_rejects_mismatched_labels(fn):
    with pytest.raises(ValueError, match="one integer label per row"):
        fn(minigan.tensor(np.zeros((4, 3))), np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        fn(minigan.tensor(np.zeros(4)), np.zeros(4, dtype=np.int64))
    with pytest.raises(TypeError, match="astype"):
        fn(minigan.tensor(np.zeros((4, 3), dtype=np.int64)), np.zeros(4, dtype=np.int64))


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call",
    [
        lambda x, y: losses.bce(x, y),
        lambda x, y: losses.bce_grad(x, y),
        losses.bce_with_logits,
        losses.bce_with_logits_grad,
        losses.mse,
        losses.mse_grad,
    ],
    ids=["bce", "bce_grad", "bce_with_logits", "bce_with_logits_grad", "mse", "mse_grad"],
)
@pytest.mark.parametrize("y_shape", [(4,), (3, 1), (4, 2)])
def test_mismatched_shapes_raise_one_clear_error(call, y_shape):
    x = minigan.tensor(np.full((4, 1), 0.5))
    y = minigan.tensor(np.zeros(y_shape))
    with pytest.raises(ValueError) as info:
        call(x, y)
    message = str(info.value)
    # (4, 1) with (4,) would broadcast to (4, 4): refused, not silently averaged.
    assert "(4, 1)" in message and str(y_shape) in message
    assert "\n" not in message and message.endswith(".")  # one sentence


@pytest.mark.parametrize("fn", [losses.bce_with_logits, losses.bce_with_logits_grad])
def test_integer_logits_raise_type_error(fn):
    with pytest.raises(TypeError, match="astype"):
        fn(minigan.tensor(np.array([1, 2])), 1.0)


def test_matches_torch_when_torch_is_installed(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    logits, y, p = rng.standard_normal((6, 1)), rng.uniform(0, 1, (6, 1)), rng.uniform(0.01, 0.99, (6, 1))
    pairs = [
        (losses.bce_with_logits(minigan.tensor(logits), minigan.tensor(y)),
         tf.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(y))),
        (losses.bce(minigan.tensor(p), minigan.tensor(y)), tf.binary_cross_entropy(torch.tensor(p), torch.tensor(y))),
        (losses.mse(minigan.tensor(p), minigan.tensor(y)), tf.mse_loss(torch.tensor(p), torch.tensor(y))),
        (losses.cross_entropy(minigan.tensor(logits.reshape(3, 2)), np.array([0, 1, 1])),
         tf.cross_entropy(torch.tensor(logits.reshape(3, 2)), torch.tensor([0, 1, 1]))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
