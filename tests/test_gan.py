"""The trainer: the invariants of the two steps, the loss table, the gradient penalty's double backprop."""

import math

import numpy as np
import pytest

import minigan
from minigan import optim
from minigan.gan import models
from minigan.gan import trainer as gan


def params(module):
    return {k: minigan.backend.to_numpy(p.data).copy() for k, p in module.named_parameters()}


def opt_state(opt):
    sd = opt.state_dict()
    return [{k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in s.items()} for s in sd["state"]]


def make(model="mlp", shape=(2,), loss="nonsaturating", **kw):
    G, D = models.build(model, shape, z_dim=8 if model == "mlp" else 16, width=16 if model == "mlp" else 8,
                        n_classes=kw.pop("n_classes", 0))
    return gan.GAN(G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                   optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)), loss=loss, **kw)


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("model,shape", [("mlp", (2,)), ("dcgan", (1, 28, 28))])
@pytest.mark.parametrize("loss", list(gan.LOSSES))
def test_d_step_leaves_g_alone_and_g_step_leaves_d_alone(model, shape, loss, xp_backend):
    g = make(model, shape, loss, gp_weight=10.0 if loss == "wgan-gp" else 0.0, clip=0.01 if loss == "wgan" else None)
    real = minigan.randn(8, *shape)
    g.g_step(8)  # so that G's optimizer has state that could change
    G0, optG0, D0 = params(g.G), opt_state(g.opt_g), params(g.D)
    out = g.d_step(real)
    assert same(params(g.G), G0), "d_step changed G's parameters"
    assert all(same(a, b) for a, b in zip(opt_state(g.opt_g), optG0)), "d_step changed G's optimizer state"
    assert not same(params(g.D), D0), "d_step did not train D"
    assert set(out) == {"d_loss", "d_real", "d_fake"} and all(math.isfinite(v) for v in out.values())

    D1, optD1, G1 = params(g.D), opt_state(g.opt_d), params(g.G)
    out = g.g_step(8)
    assert same(params(g.D), D1), "g_step changed D's parameters"
    assert all(same(a, b) for a, b in zip(opt_state(g.opt_d), optD1)), "g_step changed D's optimizer state"
    assert not same(params(g.G), G1), "g_step did not train G"
    assert set(out) == {"g_loss", "d_fake_g"} and math.isfinite(out["g_loss"])
    # D's parameters are trainable again after the G step (frozen() restores the flags).
    assert all(p.requires_grad for p in g.D.parameters())


def test_fakes_in_the_d_step_carry_no_graph_into_g():
    g = make()
    g.d_step(minigan.randn(8, 2))
    assert all(p.grad is None for p in g.G.parameters())


def test_the_d_step_numbers_are_the_losses_of_the_current_networks():
    """d_loss, D(x), D(G(z)) recomputed by hand from the same z agree with what d_step returns."""
    g = make()
    real = minigan.randn(16, 2)
    state = minigan.backend.generator().bit_generator.state
    z = g.sample_z(16)
    with minigan.no_grad():
        r, f = g.D(real).data.astype(np.float64), g.D(g.G(z)).data.astype(np.float64)
    minigan.backend.generator().bit_generator.state = state  # d_step draws the same z
    out = g.d_step(real)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    assert out["d_loss"] == pytest.approx(-np.mean(np.log(sig(r))) - np.mean(np.log(1 - sig(f))), rel=1e-5)
    assert out["d_real"] == pytest.approx(sig(r).mean(), rel=1e-5)
    assert out["d_fake"] == pytest.approx(sig(f).mean(), rel=1e-5)


def test_k_d_steps_per_g_step_use_k_real_batches():
    g = make(d_steps=3)
    batches = iter([minigan.randn(8, 2) for _ in range(4)])
    g.train_step(batches)
    assert len(list(batches)) == 1


def test_unknown_loss_and_bad_d_steps_are_refused():
    with pytest.raises(ValueError, match="unknown loss 'wasserstein': choose one of nonsaturating"):
        make(loss="wasserstein")
    with pytest.raises(ValueError, match="d_steps must be at least 1"):
        make(d_steps=0)


def test_a_nan_loss_stops_before_the_update():
    g = make()
    D0 = params(g.D)
    real = minigan.tensor(np.full((8, 2), np.nan, dtype=np.float32))
    with pytest.raises(gan.NonFiniteLossError) as info:
        g.d_step(real)
    # the Python caller's names, in backticks (a command-line door shows its flags instead)
    assert str(info.value) == ("D's loss became nan; the weights were left as they were before this step: "
                               "lower the learning rate `lr` or try another `loss`.")
    assert same(params(g.D), D0)


def test_wgan_clipping_keeps_every_critic_weight_in_range():
    g = make(loss="wgan", clip=0.01)
    g.d_step(minigan.randn(8, 2))
    assert max(float(np.abs(p).max()) for p in params(g.D).values()) <= 0.01


def test_conditional_gan_steps_run_and_keep_the_invariants():
    g = make("mlp", (1, 28, 28), n_classes=10)
    y = np.arange(8) % 10
    G0 = params(g.G)
    g.d_step(minigan.randn(8, 1, 28, 28), y)
    assert same(params(g.G), G0)
    out = g.g_step(8)
    assert math.isfinite(out["g_loss"])


def test_generate_uses_eval_mode_and_restores_training_mode():
    g = make("dcgan", (1, 28, 28))
    z = g.sample_z(4)
    a = g.generate(z).data[:1]
    b = g.generate(z[:1]).data  # eval mode: a sample does not depend on the rest of its batch
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert g.G.training


def test_d_probability_uses_eval_mode_and_restores_training_mode():
    g = make("dcgan", (1, 28, 28))
    x = minigan.randn(4, 1, 28, 28)
    a = g.d_probability(x).data[:1]
    b = g.d_probability(x[:1]).data  # eval mode: D's BatchNorm uses its running statistics
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert ((0 < a) & (a < 1)).all() and g.D.training


def _penalty_double_net():
    """A float64 critic small enough for a numerical gradient of the penalty over all its weights."""
    minigan.manual_seed(3)
    D = minigan.nn.Sequential(minigan.nn.Linear(2, 5), minigan.nn.Tanh(), minigan.nn.Linear(5, 1)).double()
    return D


def test_gradient_penalty_gradient_wrt_d_weights_equals_a_numerical_gradient():
    D = _penalty_double_net()
    rng = np.random.default_rng(0)
    real = minigan.tensor(rng.standard_normal((6, 2)))
    fake = minigan.tensor(rng.standard_normal((6, 2)))
    weights = list(D.parameters())

    def penalty():
        minigan.manual_seed(11)  # the same interpolation eps every call
        return gan.gradient_penalty(D, real, fake)

    loss = penalty()
    # The output bias b2 does not enter grad_x D, so the penalty does not depend on it: None.
    grads = minigan.grad(loss, weights, allow_unused=True)
    assert grads[-1] is None and all(g is not None for g in grads[:-1])
    for w, g in zip(weights, grads):
        def f(values, w=w):
            saved = w.data.copy()
            w.data[...] = values
            try:
                return float(penalty().data)
            finally:
                w.data[...] = saved

        num = np.zeros_like(w.data)
        it = np.nditer(w.data, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            plus, minus = w.data.copy(), w.data.copy()
            plus[i] += 1e-6
            minus[i] -= 1e-6
            num[i] = (f(plus) - f(minus)) / 2e-6
        np.testing.assert_allclose(np.zeros_like(num) if g is None else g.data, num, rtol=1e-5, atol=1e-8)
    assert float(loss.data) > 0


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    """D(x) = w . x with |w| = 1 has gradient norm 1 everywhere: no penalty."""
    D = minigan.nn.Linear(2, 1, bias=False).double()
    D.weight.data[...] = np.array([[0.6, 0.8]])
    real, fake = minigan.tensor(np.ones((4, 2))), minigan.tensor(np.zeros((4, 2)))
    assert float(gan.gradient_penalty(D, real, fake).data) == pytest.approx(0.0, abs=1e-10)
    D.weight.data[...] = np.array([[1.2, 1.6]])  # norm 2 -> (2 - 1)^2 = 1
    assert float(gan.gradient_penalty(D, real, fake).data) == pytest.approx(1.0, rel=1e-9)


def _batches(n=8, seed=5):
    rng = np.random.default_rng(seed)
    while True:
        yield minigan.tensor(rng.standard_normal((n, 2)).astype(np.float32))


def test_ema_is_the_running_average_of_g_and_leaves_training_alone(xp_backend):
    """G_ema follows b_t G_ema + (1 - b_t) G with b_t = min(beta, (1 + t) / (10 + t)); G's path is unchanged."""
    minigan.manual_seed(0)
    plain = make()
    a = _batches()
    for _ in range(30):
        plain.train_step(a)
    minigan.manual_seed(0)  # the same run again (same weights, noise and data), now keeping the average
    averaged = make(ema=0.9)
    expected = params(averaged.G)  # G_ema starts as a copy of G
    assert same(params(averaged.G_ema), expected)
    b = _batches()
    for t in range(30):
        averaged.train_step(b)
        beta = min(0.9, (1 + t) / (10 + t))
        g = params(averaged.G)
        expected = {k: beta * expected[k] + (1 - beta) * g[k] for k in g}
    assert same(params(plain.G), params(averaged.G)), "keeping the average changed G's training"
    assert same(params(plain.D), params(averaged.D))
    got = params(averaged.G_ema)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert not same(got, params(averaged.G))
    z = averaged.sample_z(5)
    host = minigan.backend.to_numpy
    with minigan.no_grad():
        from_avg = host(averaged.G_ema(z).data)
    np.testing.assert_array_equal(host(averaged.generate(z).data), from_avg)  # samples come from the average
    averaged.sample_from_ema = False
    np.testing.assert_array_equal(host(averaged.generate(z).data), host(plain.generate(z).data))


def test_ema_state_round_trips_and_bad_decays_are_refused():
    minigan.manual_seed(1)
    g = make(ema=0.99)
    batches = _batches()
    for _ in range(3):
        g.train_step(batches)
    state = g.state_dict()
    assert state["ema_updates"] == 3
    minigan.manual_seed(2)
    h = make(ema=0.99)
    h.load_state_dict(state)
    assert same(params(h.G_ema), params(g.G_ema)) and h.ema_updates == 3
    with pytest.raises(ValueError, match=r"keeps a running average of G \(`ema`\) but the state has none: it was "
                                         r"saved by a GAN made without one\.$"):
        make(ema=0.99).load_state_dict(make().state_dict())
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"ema is the decay of G's running average, in \[0, 1\)"):
            make(ema=bad)
    assert make().G_ema is None


# --------------------------------------------------------------------------- the R1 penalty (issue 18)


def test_r1_penalty_of_a_linear_critic_by_hand():
    """D(x) = w . x + b has grad_x D = w everywhere: R1 = gamma / 2 |w|^2, dR1/dw = gamma w, b unused."""
    D = minigan.nn.Linear(3, 1).double()
    D.weight.data[...] = np.array([[0.5, -1.0, 2.0]])
    real = minigan.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    r1 = gan.r1_penalty(D, real, gamma=4.0)
    assert float(r1.data) == pytest.approx(4.0 / 2 * (0.25 + 1.0 + 4.0), rel=1e-12)
    g_w, g_b = minigan.grad(r1, [D.weight, D.bias], allow_unused=True)
    np.testing.assert_allclose(g_w.data, 4.0 * D.weight.data, rtol=1e-12)
    assert g_b is None
    assert float(gan.r1_penalty(D, real, gamma=0.0).data) == 0.0


def _r1_of_weights(D, real):
    """R1 as a function of (real batch, D's weights), for gradcheck: D's layers read the given tensors."""
    def f(x, *weights):
        with minigan.module.substituted(D, list(weights)):
            return gan.r1_penalty(D, x, gamma=2.0)
    return f


def test_r1_penalty_first_and_second_derivatives_match_central_differences(xp_backend):
    from minigan.gradcheck import gradcheck, gradgradcheck

    D = _penalty_double_net()  # Linear(2, 5), Tanh, Linear(5, 1) in float64: smooth, so second order holds
    real = minigan.tensor(np.random.default_rng(4).standard_normal((6, 2)))
    weights = [minigan.tensor(p.data.copy(), requires_grad=True) for p in D.parameters()]
    f = _r1_of_weights(D, real)
    # D's output bias does not reach grad_x D: R1 does not depend on it (gradcheck sees a zero gradient).
    assert gradcheck(f, [real, *weights])
    assert gradgradcheck(f, [real, *weights[:-1], weights[-1]])
    assert float(f(real, *weights).data) > 0


def test_r1_penalty_on_a_conditional_projection_d_hears_the_label():
    G, D = models.mlp((2,), z_dim=2, hidden=8, n_classes=3, projection=True)
    D = D.double()
    D.label.weight.data[...] = np.random.default_rng(1).standard_normal(D.label.weight.shape)
    real = minigan.tensor(np.random.default_rng(2).standard_normal((6, 2)))
    a = float(gan.r1_penalty(D, real, y=np.zeros(6, dtype=np.int64)).data)
    b = float(gan.r1_penalty(D, real, y=np.full(6, 2, dtype=np.int64)).data)
    assert a > 0 and b > 0 and abs(a - b) > 1e-6  # the slope at the data depends on y through the projection


def test_a_d_step_with_r1_adds_exactly_the_penalty_gradient():
    """Same weights, batch and noise, plain SGD: D moves by -lr * grad R1 more with r1 = gamma than without."""
    rng = np.random.default_rng(6)
    real = rng.standard_normal((16, 2))
    moved = {}
    for gamma in (0.0, 3.0):
        minigan.manual_seed(2)
        G, D = models.mlp((2,), z_dim=2, hidden=8)
        G, D = G.double(), D.double()
        before = [p.data.copy() for p in D.parameters()]
        trainer = gan.GAN(G, D, optim.SGD(G.parameters(), lr=0.1), optim.SGD(D.parameters(), lr=0.1), r1=gamma)
        minigan.manual_seed(9)  # the same fakes in both runs
        trainer.d_step(minigan.tensor(real))
        moved[gamma] = [p.data - b for p, b in zip(D.parameters(), before)]
    minigan.manual_seed(2)
    _, D0 = models.mlp((2,), z_dim=2, hidden=8)
    D0 = D0.double()
    grads = minigan.grad(gan.r1_penalty(D0, minigan.tensor(real), gamma=3.0), list(D0.parameters()),
                         allow_unused=True)
    for a, b, g in zip(moved[3.0], moved[0.0], grads):
        expected = np.zeros_like(a) if g is None else -0.1 * g.data
        np.testing.assert_allclose(a - b, expected, rtol=1e-7, atol=1e-12)
    assert any(np.abs(a - b).max() > 1e-6 for a, b in zip(moved[3.0], moved[0.0]))


@pytest.mark.parametrize("loss", list(gan.LOSSES))
def test_g_direction_is_minus_the_gradient_of_each_samples_term_of_gs_loss(loss):
    """Central differences on L(x) = g_loss(D(x)) times B, in float64: row i is -B dL/dx_i."""
    G, D = models.build("mlp", (2,), z_dim=3, width=8)
    G, D = G.double(), D.double()
    g = gan.GAN(G, D, optim.Adam(G.parameters()), optim.Adam(D.parameters()), loss=loss)
    x = np.random.default_rng(0).standard_normal((5, 2))
    got = g.g_direction(x)

    def L(x):
        with minigan.no_grad():
            return float(g.loss.g(D(minigan.tensor(x))).data) * len(x)

    h, want = 1e-6, np.zeros_like(x)
    for i in range(5):
        for j in range(2):
            e = np.zeros_like(x)
            e[i, j] = h
            want[i, j] = -(L(x + e) - L(x - e)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    assert all(p.grad is None for p in D.parameters())  # D fixed: its weights collected nothing


def test_d_at_points_asks_a_packed_d_about_copies_of_each_point():
    G, D = models.build("mlp", (2,), z_dim=3, width=8, pack=3)
    g = gan.GAN(G, D, optim.Adam(G.parameters()), optim.Adam(D.parameters()))
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    got = g.d_at_points(x)
    want = g.d_probability(minigan.tensor(np.repeat(x, 3, axis=0))).numpy().reshape(-1)
    assert got.shape == (4,)
    np.testing.assert_array_equal(got, want)
