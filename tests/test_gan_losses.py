"""Every GAN loss (the original game's on D's logits, LSGAN, WGAN, hinge): forward against NumPy formulas;
by-hand gradient == autograd == central differences; second derivatives where the loss is smooth; dtypes;
bad input; what each loss means, by value."""

import math
import warnings

import numpy as np
import pytest

import minigan
from minigan import losses
from minigan.gan import losses as gan_losses
from minigan.gradcheck import numerical_grad

N_REAL, N_FAKE = 5, 3  # different batch sizes: each mean is over its own batch


def sig(x):
    """A float64 NumPy sigmoid for the reference formulas."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _scores(rng, n):
    return rng.standard_normal((n, 1)) * 2


def _away_from(kink, rng, n):
    """n outputs on both sides of ``kink``, none within 0.05 of it (relu's kink has no derivative)."""
    a = rng.uniform(-3.0, 3.0, (n, 1))
    a = np.where(np.abs(a - kink) < 0.1, kink + np.where(a < kink, -0.5, 0.5), a)
    a[0, 0], a[1, 0] = kink - 0.3, kink + 0.3  # at least one inside the margin and one outside it
    assert np.abs(a - kink).min() > 0.05
    return a


# Each case: make(rng) -> host arrays of D's outputs (real then fake, or fake alone), the loss on
# tensors, its by-hand gradient, the loss written directly in NumPy, and whether it is smooth.
CASES = {
    "d_loss": dict(
        make=lambda rng: [_scores(rng, N_REAL), _scores(rng, N_FAKE)],
        loss=gan_losses.d_loss,
        by_hand=gan_losses.d_loss_grad,
        ref=lambda r, f: -np.mean(np.log(sig(r))) - np.mean(np.log(1 - sig(f))),
        smooth=True,
    ),
    "g_loss_minimax": dict(
        make=lambda rng: [_scores(rng, N_FAKE)],
        loss=gan_losses.g_loss_minimax,
        by_hand=lambda f: (gan_losses.g_loss_minimax_grad(f),),
        ref=lambda f: np.mean(np.log(1 - sig(f))),
        smooth=True,
    ),
    "g_loss_nonsaturating": dict(
        make=lambda rng: [_scores(rng, N_FAKE)],
        loss=gan_losses.g_loss_nonsaturating,
        by_hand=lambda f: (gan_losses.g_loss_nonsaturating_grad(f),),
        ref=lambda f: -np.mean(np.log(sig(f))),
        smooth=True,
    ),
    "lsgan_d": dict(
        make=lambda rng: [_scores(rng, N_REAL), _scores(rng, N_FAKE)],
        loss=gan_losses.lsgan_d_loss,
        by_hand=gan_losses.lsgan_d_loss_grad,
        ref=lambda r, f: 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f**2),
        smooth=True,
    ),
    "lsgan_g": dict(
        make=lambda rng: [_scores(rng, N_FAKE)],
        loss=gan_losses.lsgan_g_loss,
        by_hand=lambda f: (gan_losses.lsgan_g_loss_grad(f),),
        ref=lambda f: 0.5 * np.mean((f - 1) ** 2),
        smooth=True,
    ),
    "wgan_d": dict(
        make=lambda rng: [_scores(rng, N_REAL), _scores(rng, N_FAKE)],
        loss=gan_losses.wgan_d_loss,
        by_hand=gan_losses.wgan_d_loss_grad,
        ref=lambda r, f: np.mean(f) - np.mean(r),
        smooth=False,
    ),
    "wgan_g": dict(
        make=lambda rng: [_scores(rng, N_FAKE)],
        loss=gan_losses.wgan_g_loss,
        by_hand=lambda f: (gan_losses.wgan_g_loss_grad(f),),
        ref=lambda f: -np.mean(f),
        smooth=False,
    ),
    "hinge_d": dict(
        make=lambda rng: [_away_from(1.0, rng, N_REAL), _away_from(-1.0, rng, N_FAKE)],
        loss=gan_losses.hinge_d_loss,
        by_hand=gan_losses.hinge_d_loss_grad,
        ref=lambda r, f: np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)),
        smooth=False,
    ),
    "hinge_g": dict(
        make=lambda rng: [_scores(rng, N_FAKE)],
        loss=gan_losses.hinge_g_loss,
        by_hand=lambda f: (gan_losses.hinge_g_loss_grad(f),),
        ref=lambda f: -np.mean(f),
        smooth=False,
    ),
}
NAMES = list(CASES)
SMOOTH = [name for name in NAMES if CASES[name]["smooth"]]


def _build(name, rng, dtype):
    case = CASES[name]
    host = case["make"](rng)
    xs = [minigan.tensor(a, dtype=dtype, requires_grad=True) for a in host]
    return case, host, xs


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_numpy_formula(name, xp_backend, rng):
    case, host, xs = _build(name, rng, "float64")
    value = case["loss"](*xs)
    assert value.shape == () and value.dtype == np.float64
    np.testing.assert_allclose(value.item(), case["ref"](*host), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_by_hand_autograd_and_numerical_gradients_agree(name, xp_backend, rng):
    case, host, xs = _build(name, rng, "float64")
    f = case["loss"]
    f(*xs).backward()
    auto = [x.grad.numpy() for x in xs]
    by_hand = case["by_hand"](*[x.data for x in xs])  # from arrays ...
    by_hand_t = case["by_hand"](*xs)  # ... and from Tensors
    xp = xp_backend.xp
    numerical = numerical_grad(f, xs, [xp.ones(())], eps=1e-6)

    assert len(by_hand) == len(xs)
    for x, a, h, ht, n in zip(xs, auto, by_hand, by_hand_t, numerical):
        assert isinstance(h, xp.ndarray) and h.dtype == np.float64 and h.shape == x.shape
        h = xp_backend.to_numpy(h)
        np.testing.assert_array_equal(h, xp_backend.to_numpy(ht))
        np.testing.assert_allclose(a, h, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(n, h, rtol=1e-6, atol=1e-9)
    assert minigan.gradcheck(f, xs)


@pytest.mark.parametrize("name", SMOOTH)
def test_second_derivatives_of_the_smooth_losses(name, xp_backend, rng):
    _, _, xs = _build(name, rng, "float64")
    assert minigan.gradgradcheck(CASES[name]["loss"], xs)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_forward_and_backward(name, xp_backend, rng):
    case, _, xs = _build(name, rng, "float32")
    value = case["loss"](*xs)
    assert value.dtype == np.float32
    value.backward()
    for x, h in zip(xs, case["by_hand"](*xs)):
        assert x.grad.dtype == np.float32 and h.dtype == np.float32
        np.testing.assert_allclose(x.grad.numpy(), xp_backend.to_numpy(h), rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- the original game, by value


def test_minimax_generator_loss_saturates_where_nonsaturating_does_not(xp_backend):
    # D is sure the fakes are fake: logit -6, D(G(z)) = sigma(-6) ~ 0.0025.
    f = minigan.tensor(np.full((8, 1), -6.0), requires_grad=True)
    minimax = gan_losses.g_loss_minimax_grad(f)
    nonsat = gan_losses.g_loss_nonsaturating_grad(f)
    ratio = float(abs(minimax).max() / abs(nonsat).max())
    # |-sigma(f)| / |sigma(f) - 1| = sigma(f) / sigma(-f) = e^f
    np.testing.assert_allclose(ratio, math.exp(-6.0), rtol=1e-4)
    assert ratio < 0.003
    # Both point the same way: raise the fake logit.
    assert (minimax < 0).all() and (nonsat < 0).all()
    # autograd sees the same
    gan_losses.g_loss_minimax(f).backward()
    np.testing.assert_allclose(f.grad.numpy(), xp_backend.to_numpy(minimax), rtol=1e-6)


def test_d_loss_is_the_negated_minimax_value(xp_backend, rng):
    r = rng.uniform(-3, 3, (16, 1))
    f = rng.uniform(-3, 3, (16, 1))
    # V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))], computed naively.
    value = np.mean(np.log(sig(r))) + np.mean(np.log(1.0 - sig(f)))
    loss = gan_losses.d_loss(minigan.tensor(r, dtype="float64"), minigan.tensor(f, dtype="float64"))
    np.testing.assert_allclose(loss.item(), -value, rtol=1e-12)
    # and the generator's minimax loss is the part of V it controls
    g = gan_losses.g_loss_minimax(minigan.tensor(f, dtype="float64"))
    np.testing.assert_allclose(g.item(), np.mean(np.log(1.0 - sig(f))), rtol=1e-12)


def test_d_loss_is_bce_with_logits_against_ones_and_zeros(rng):
    r = minigan.tensor(rng.standard_normal((4, 1)))
    f = minigan.tensor(rng.standard_normal((4, 1)))
    expected = losses.bce_with_logits(r, 1.0).item() + losses.bce_with_logits(f, 0.0).item()
    np.testing.assert_allclose(gan_losses.d_loss(r, f).item(), expected, rtol=1e-6)


def test_the_original_game_is_exact_at_large_logits_without_warnings(xp_backend):
    logits = minigan.tensor([100.0, -100.0], requires_grad=True)
    # Underflow (e^-100 -> 0) is harmless; overflow, log(0) and 0/0 are what must not happen.
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        values = [gan_losses.d_loss(logits, logits), gan_losses.g_loss_minimax(logits),
                  gan_losses.g_loss_nonsaturating(logits)]
    np.testing.assert_allclose([v.item() for v in values], [100.0, -50.0, 50.0], rtol=1e-6)


# --------------------------------------------------------------------------- what each variant means, by value


def test_lsgan_is_zero_at_its_targets_and_does_not_saturate():
    ones, zeros = np.ones((4, 1)), np.zeros((2, 1))
    assert gan_losses.lsgan_d_loss(minigan.tensor(ones), minigan.tensor(zeros)).item() == 0.0
    assert gan_losses.lsgan_g_loss(minigan.tensor(ones)).item() == 0.0
    # A fake D scores far on the "fake" side still gets a gradient proportional to its distance (f - 1) / N.
    f = np.array([[-10.0], [0.0]])
    np.testing.assert_allclose(gan_losses.lsgan_g_loss_grad(f), [[-5.5], [-0.5]])
    r, g = gan_losses.lsgan_d_loss_grad(np.array([[3.0]]), np.array([[2.0], [-4.0]]))
    np.testing.assert_allclose(r, [[2.0]])
    np.testing.assert_allclose(g, [[1.0], [-2.0]])


def test_wgan_critic_loss_is_linear_with_constant_gradients():
    r, f = np.array([[1.0], [3.0]]), np.array([[0.5], [1.5], [-2.0], [4.0]])
    # mean f - mean r = 1.0 - 2.0; the critic's estimate of W1 is its negation
    assert gan_losses.wgan_d_loss(minigan.tensor(r), minigan.tensor(f)).item() == -1.0
    assert gan_losses.wgan_d_loss(minigan.tensor(f), minigan.tensor(f)).item() == 0.0
    gr, gf = gan_losses.wgan_d_loss_grad(r, f)
    np.testing.assert_array_equal(gr, [[-0.5], [-0.5]])
    np.testing.assert_array_equal(gf, [[0.25]] * 4)
    # the gradient does not depend on the outputs: the loss has no curvature
    gr2, gf2 = gan_losses.wgan_d_loss_grad(r * 7 - 3, f**2)
    np.testing.assert_array_equal(gr, gr2)
    np.testing.assert_array_equal(gf, gf2)
    np.testing.assert_array_equal(gan_losses.wgan_g_loss_grad(f), [[-0.25]] * 4)
    np.testing.assert_array_equal(gan_losses.hinge_g_loss_grad(f), gan_losses.wgan_g_loss_grad(f))


def test_hinge_only_samples_inside_the_margin_get_a_gradient():
    r = np.array([[2.0], [0.5], [1.5], [-1.0]])  # r > 1 is past the margin: no loss, no gradient
    f = np.array([[-3.0], [-0.5]])  # f < -1 likewise
    value = gan_losses.hinge_d_loss(minigan.tensor(r), minigan.tensor(f)).item()
    np.testing.assert_allclose(value, (0.5 + 2.0) / 4 + 0.5 / 2)
    gr, gf = gan_losses.hinge_d_loss_grad(r, f)
    np.testing.assert_array_equal(gr, [[0.0], [-0.25], [0.0], [-0.25]])
    np.testing.assert_array_equal(gf, [[0.0], [0.5]])
    assert gan_losses.hinge_d_loss(minigan.tensor(r + 10), minigan.tensor(f - 10)).item() == 0.0


def test_a_mean_is_over_all_elements_of_each_batch():
    r, f = np.arange(6.0).reshape(3, 2), np.arange(4.0).reshape(4, 1)  # (N, k) outputs are averaged over N*k
    gr, gf = gan_losses.lsgan_d_loss_grad(r, f)
    np.testing.assert_allclose(gr, (r - 1) / 6)
    np.testing.assert_allclose(gf, f / 4)
    value = gan_losses.lsgan_d_loss(minigan.tensor(r, dtype="float64"), minigan.tensor(f, dtype="float64")).item()
    np.testing.assert_allclose(value, 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f**2), rtol=1e-12)


# --------------------------------------------------------------------------- bad input

LOGIT_D_FNS = ["d_loss", "d_loss_grad"]
LOGIT_G_FNS = ["g_loss_minimax", "g_loss_minimax_grad", "g_loss_nonsaturating", "g_loss_nonsaturating_grad"]
D_FNS = ["lsgan_d_loss", "lsgan_d_loss_grad", "wgan_d_loss", "wgan_d_loss_grad", "hinge_d_loss", "hinge_d_loss_grad"]
G_FNS = ["lsgan_g_loss", "lsgan_g_loss_grad", "wgan_g_loss", "wgan_g_loss_grad", "hinge_g_loss", "hinge_g_loss_grad"]


def _assert_clear_type_error(info, fn, what):
    message = str(info.value)
    assert message.startswith(f"{fn}: the {what} are int64")  # names the very function called
    assert what in message and "int64" in message and "astype('float32')" in message
    assert "\n" not in message and message.endswith(".")


@pytest.mark.parametrize("fn", D_FNS)
@pytest.mark.parametrize("which", ["real", "fake"])
def test_integer_d_outputs_raise_type_error(fn, which):
    good, bad = minigan.tensor([[0.5], [-1.0]]), minigan.tensor(np.array([[1], [0]], dtype=np.int64))
    args = (bad, good) if which == "real" else (good, bad)
    with pytest.raises(TypeError) as info:
        getattr(gan_losses, fn)(*args)
    _assert_clear_type_error(info, fn, f"{which} outputs")


@pytest.mark.parametrize("fn", G_FNS)
def test_integer_g_outputs_raise_type_error(fn):
    with pytest.raises(TypeError) as info:
        getattr(gan_losses, fn)(minigan.tensor(np.array([[1], [0]], dtype=np.int64)))
    _assert_clear_type_error(info, fn, "fake outputs")


@pytest.mark.parametrize("fn", LOGIT_D_FNS)
@pytest.mark.parametrize("which", ["real", "fake"])
def test_integer_d_logits_raise_type_error(fn, which):
    good, bad = minigan.tensor([[0.5], [-1.0]]), minigan.tensor(np.array([[1], [0]], dtype=np.int64))
    args = (bad, good) if which == "real" else (good, bad)
    with pytest.raises(TypeError) as info:
        getattr(gan_losses, fn)(*args)
    _assert_clear_type_error(info, fn, f"{which} logits")


@pytest.mark.parametrize("fn", LOGIT_G_FNS)
def test_integer_g_logits_raise_type_error(fn):
    with pytest.raises(TypeError) as info:
        getattr(gan_losses, fn)(minigan.tensor(np.array([[1], [0]], dtype=np.int64)))
    _assert_clear_type_error(info, fn, "fake logits")


def test_every_public_loss_is_tested():
    assert sorted(gan_losses.__all__) == sorted(LOGIT_D_FNS + LOGIT_G_FNS + D_FNS + G_FNS)


def test_the_generic_losses_hold_no_gan_loss():
    assert not [name for name in losses.__all__ if "d_loss" in name or "g_loss" in name]
