"""Unrolled GAN: D is put back exactly; the second-order gradient equals a numerical one."""

import numpy as np
import pytest

import minigan
from minigan import optim, train
from minigan.gan import config, models
from minigan.gan.unrolled import UnrolledGAN
from minigan.module import substituted


def state(module):
    return {k: v.copy() for k, v in module.state_dict().items()}


def opt_arrays(opt):
    return [{k: np.array(v) for k, v in s.items()} for s in opt.state_dict()["state"]]


def make(second_order=False, unroll=3, opt_d=None):
    G, D = models.mlp((2,), z_dim=4, hidden=8)
    return UnrolledGAN(G, D, optim.Adam(G.parameters(), lr=1e-2), opt_d or optim.Adam(D.parameters(), lr=1e-2),
                       unroll=unroll, second_order=second_order)


@pytest.mark.parametrize("second_order", [False, True])
def test_the_g_step_leaves_d_exactly_as_it_was(second_order):
    g = make(second_order)
    g.d_step(minigan.randn(16, 2))
    D0, optD0, G0 = state(g.D), opt_arrays(g.opt_d), state(g.G)
    g.g_step(16)
    D1 = state(g.D)
    assert all(np.array_equal(D0[k], D1[k]) for k in D0)
    assert all(all(np.array_equal(a[k], b[k]) for k in a) for a, b in zip(optD0, opt_arrays(g.opt_d)))
    assert any(not np.array_equal(G0[k], v) for k, v in state(g.G).items())


def test_unrolling_changes_g_s_update():
    """Against D three steps ahead, G moves differently than against today's D."""
    moves = []
    for unroll in (None, 3):
        minigan.manual_seed(0)
        G, D = models.mlp((2,), z_dim=4, hidden=8)
        opts = optim.Adam(G.parameters(), lr=1e-2), optim.Adam(D.parameters(), lr=1e-2)
        g = UnrolledGAN(G, D, *opts, unroll=unroll) if unroll else minigan.gan.GAN(G, D, *opts)
        minigan.manual_seed(1)
        g.d_step(minigan.randn(16, 2))
        g.g_step(16)
        moves.append(state(G))
    assert any(not np.allclose(moves[0][k], moves[1][k]) for k in moves[0])


def test_a_g_step_before_any_d_step_says_what_to_do():
    with pytest.raises(RuntimeError, match="call d_step"):
        make().g_step(4)


def _second_order_grads(g, real):
    """The gradient the second-order G step applies, captured instead of stepping."""
    captured = {}

    def capture():
        captured["grads"] = [None if p.grad is None else p.grad.data.copy() for p in g.G.parameters()]

    g.opt_g.step = capture
    g._real = (real, None)
    g.g_step(real.shape[0])
    return captured["grads"]


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_second_order_gradient_equals_a_numerical_gradient(opt):
    """d/d theta_G of g_loss(D_{theta_D - lr step(theta_D, G)}(G(z))) by central differences (float64)."""
    minigan.manual_seed(5)
    G, D = models.mlp((2,), z_dim=3, hidden=4)
    G.double()
    D.double()
    opt_d = optim.SGD(D.parameters(), lr=0.5) if opt == "sgd" else optim.Adam(D.parameters(), lr=0.05)
    if opt == "adam":  # give Adam's moments a history, as in the middle of training
        for p in D.parameters():
            p.grad = minigan.tensor(np.full(p.shape, 0.1))
        opt_d.step()
    g = UnrolledGAN(G, D, optim.SGD(G.parameters(), lr=1.0), opt_d, unroll=2, second_order=True)
    real = minigan.tensor(np.random.default_rng(0).standard_normal((6, 2)))

    def g_loss_value():
        minigan.manual_seed(9)  # the same z for the unrolled D steps and for G's loss
        saved = [p.grad for p in G.parameters()]
        grads = _second_order_grads(g, real)
        for p, s in zip(G.parameters(), saved):
            p.grad = s
        return grads

    analytic = g_loss_value()

    def loss_at():
        # Recompute the unrolled loss value with the same seed, without updating anything.
        minigan.manual_seed(9)
        z = g.sample_z(real.shape[0])  # drawn first, as in the G step
        weights = list(D.parameters())
        for _ in range(g.unroll):
            weights = g._differentiable_d_update(weights, real, None)
        with substituted(D, weights):
            return float(g.loss.g(D(G(z))).data)

    for p, a in zip(G.parameters(), analytic):
        num = np.zeros(p.shape)
        flat = p.data.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + 1e-6
            up = loss_at()
            flat[i] = old - 1e-6
            down = loss_at()
            flat[i] = old
            num.reshape(-1)[i] = (up - down) / 2e-6
        np.testing.assert_allclose(a, num, rtol=1e-5, atol=1e-9)


def _look_ahead_and_adam_step(weight_decay):
    """D's weights after one differentiable look-ahead step, and after a real D step with Adam.step on the
    same fakes, from the same Adam state (moments with a history, as in the middle of training)."""
    minigan.manual_seed(5)
    G, D = models.mlp((2,), z_dim=3, hidden=4)
    G.double()
    D.double()
    opt_d = optim.Adam(D.parameters(), lr=0.05, betas=(0.5, 0.9), weight_decay=weight_decay)
    for p in D.parameters():
        p.grad = minigan.tensor(np.full(p.shape, 0.1))
    opt_d.step()
    g = UnrolledGAN(G, D, optim.SGD(G.parameters(), lr=1.0), opt_d, unroll=1, second_order=True)
    real = minigan.tensor(np.random.default_rng(0).standard_normal((6, 2)))
    minigan.manual_seed(9)
    ahead = [w.numpy() for w in g._differentiable_d_update(list(D.parameters()), real, None)]
    minigan.manual_seed(9)  # the same z for the real step
    minigan.gan.GAN.d_step(g, real)  # the plain D step: Adam.step on the same gradient
    return ahead, [p.numpy() for p in D.parameters()]


def test_the_look_ahead_takes_adam_s_own_step_weight_decay_included():
    plain, plain_step = _look_ahead_and_adam_step(0.0)
    decayed, decayed_step = _look_ahead_and_adam_step(0.1)
    for ahead, stepped in ((plain, plain_step), (decayed, decayed_step)):
        for a, b in zip(ahead, stepped):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert not all(np.allclose(a, b, rtol=1e-6) for a, b in zip(plain, decayed))  # the decay is not ignored


def test_first_and_second_order_give_different_g_gradients():
    grads = []
    for second in (False, True):
        minigan.manual_seed(5)
        G, D = models.mlp((2,), z_dim=3, hidden=4)
        g = UnrolledGAN(G, D, optim.SGD(G.parameters(), lr=1.0), optim.SGD(D.parameters(), lr=0.5), unroll=2,
                        second_order=second)
        minigan.manual_seed(9)
        grads.append(_second_order_grads(g, minigan.randn(6, 2)))
    assert any(not np.allclose(a, b, rtol=1e-3) for a, b in zip(*grads) if a is not None)


def test_the_cli_resolves_the_variants_published_settings():
    cfg = config.resolve(train.settings(train.parse_args(["--dataset", "ring8", "--loss", "wgan"])))
    assert (cfg["optimizer"], cfg["lr"], cfg["clip"], cfg["d_steps"]) == ("rmsprop", 5e-5, 0.01, 5)
    cfg = config.resolve({"dataset": "mnist", "loss": "wgan-gp", "d_steps": 3})
    assert (cfg["lr"], cfg["beta1"], cfg["beta2"], cfg["gp_weight"], cfg["d_steps"]) == (1e-4, 0.0, 0.9, 10.0, 3)
    cfg = config.resolve({"dataset": "ring8", "loss": "wgan-gp", "d_steps": 3})  # the toys' recipe (test_recipes)
    assert (cfg["lr"], cfg["beta1"], cfg["beta2"], cfg["gp_weight"], cfg["d_steps"]) == (1e-3, 0.5, 0.9, 0.1, 3)
    with pytest.raises(ValueError, match=r"`batch_size` \(100\) must be a multiple of `pack` \(3\)"):
        config.resolve(train.settings(train.parse_args(["--dataset", "ring8", "--pack", "3", "--batch-size", "100"])))
