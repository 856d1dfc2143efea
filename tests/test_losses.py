"""Losses: forward against NumPy formulas; by-hand gradient == autograd == central differences."""

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
    "d_loss": dict(
        # Different batch sizes for real and fake: each mean is over its own batch.
        make=lambda rng: ([rng.standard_normal((5, 1)) * 2, rng.standard_normal((3, 1)) * 2], None),
        loss=lambda _: losses.d_loss,
        by_hand=lambda _: losses.d_loss_grad,
        ref=lambda _: (lambda r, f: -np.mean(np.log(sig(r))) - np.mean(np.log(1 - sig(f)))),
    ),
    "g_loss_minimax": dict(
        make=lambda rng: ([rng.standard_normal((5, 1)) * 2], None),
        loss=lambda _: losses.g_loss_minimax,
        by_hand=lambda _: (lambda f: (losses.g_loss_minimax_grad(f),)),
        ref=lambda _: (lambda f: np.mean(np.log(1 - sig(f)))),
    ),
    "g_loss_nonsaturating": dict(
        make=lambda rng: ([rng.standard_normal((5, 1)) * 2], None),
        loss=lambda _: losses.g_loss_nonsaturating,
        by_hand=lambda _: (lambda f: (losses.g_loss_nonsaturating_grad(f),)),
        ref=lambda _: (lambda f: -np.mean(np.log(sig(f)))),
    ),
}
NAMES = list(CASES)


def _build(name, xp_backend, rng, dtype):
    case = CASES[name]
    host_inputs, host_y = case["make"](rng)
    xs = [minigan.tensor(a, dtype=dtype, requires_grad=True) for a in host_inputs]
    y = None if host_y is None else minigan.tensor(host_y, dtype=dtype)
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
        gan = [losses.d_loss(logits, logits), losses.g_loss_minimax(logits), losses.g_loss_nonsaturating(logits)]
    np.testing.assert_allclose(wrong.item(), 100.0, rtol=1e-6)
    assert 0.0 <= right.item() < 1e-30
    np.testing.assert_allclose(logits.grad.numpy(), [0.5, -0.5])  # (sigma(l) - y) / N
    np.testing.assert_allclose(xp_backend.to_numpy(grad_wrong), [0.5, -0.5])
    np.testing.assert_allclose([v.item() for v in gan], [100.0, -50.0, 50.0], rtol=1e-6)


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


# --------------------------------------------------------------------------- the GAN lesson


def test_minimax_generator_loss_saturates_where_nonsaturating_does_not(xp_backend):
    # D is sure the fakes are fake: logit -6, D(G(z)) = sigma(-6) ~ 0.0025.
    f = minigan.tensor(np.full((8, 1), -6.0), requires_grad=True)
    minimax = losses.g_loss_minimax_grad(f)
    nonsat = losses.g_loss_nonsaturating_grad(f)
    ratio = float(abs(minimax).max() / abs(nonsat).max())
    # |-sigma(f)| / |sigma(f) - 1| = sigma(f) / sigma(-f) = e^f
    np.testing.assert_allclose(ratio, math.exp(-6.0), rtol=1e-4)
    assert ratio < 0.003
    # Both point the same way: raise the fake logit.
    assert (minimax < 0).all() and (nonsat < 0).all()
    # autograd sees the same
    losses.g_loss_minimax(f).backward()
    np.testing.assert_allclose(f.grad.numpy(), xp_backend.to_numpy(minimax), rtol=1e-6)


def test_d_loss_is_the_negated_minimax_value(xp_backend, rng):
    r = rng.uniform(-3, 3, (16, 1))
    f = rng.uniform(-3, 3, (16, 1))
    # V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], computed naively.
    value = np.mean(np.log(sig(r))) + np.mean(np.log(1.0 - sig(f)))
    loss = losses.d_loss(minigan.tensor(r, dtype="float64"), minigan.tensor(f, dtype="float64"))
    np.testing.assert_allclose(loss.item(), -value, rtol=1e-12)
    # and the generator's minimax loss is the part of V it controls
    g = losses.g_loss_minimax(minigan.tensor(f, dtype="float64"))
    np.testing.assert_allclose(g.item(), np.mean(np.log(1.0 - sig(f))), rtol=1e-12)


def test_d_loss_is_bce_with_logits_against_ones_and_zeros(rng):
    r = minigan.tensor(rng.standard_normal((4, 1)))
    f = minigan.tensor(rng.standard_normal((4, 1)))
    expected = losses.bce_with_logits(r, 1.0).item() + losses.bce_with_logits(f, 0.0).item()
    np.testing.assert_allclose(losses.d_loss(r, f).item(), expected, rtol=1e-6)


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
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
