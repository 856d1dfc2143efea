"""Optimizers: first steps against the closed form, convergence, state_dict, dtype, errors."""

import copy
import math

import numpy as np
import pytest

import minigan
from minigan import optim

W0 = np.array([1.0, -2.0, 0.5])


def _param(values=W0, dtype="float32"):
    return minigan.tensor(np.asarray(values), dtype=dtype, requires_grad=True)


def _set_grad(p, g):
    """Give p a gradient as backward() would (a Tensor on p's backend)."""
    p.grad = minigan.tensor(np.asarray(g), dtype=p.dtype)


def _run(opt, p, grads):
    for g in grads:
        opt.zero_grad()
        _set_grad(p, g)
        opt.step()
    return p.numpy().astype(np.float64)


# --------------------------------------------------------------------------- closed forms


def test_adam_with_a_constant_gradient_moves_lr_per_step(xp_backend):
    # With g fixed, m = (1 - b1^t) g and v = (1 - b2^t) g^2, so bias correction gives
    # m_hat = g and v_hat = g^2 exactly: every step is lr * g / (|g| + eps), about lr * sign(g).
    g = np.array([0.5, -3.0, 1e-3])
    lr, eps = 0.01, 1e-8
    p = _param()
    w3 = _run(optim.Adam([p], lr=lr, eps=eps), p, [g, g, g])
    np.testing.assert_allclose(w3, W0 - 3 * lr * g / (np.abs(g) + eps), rtol=1e-6, atol=1e-7)


def test_adam_first_three_steps_match_the_closed_form(xp_backend):
    g1, g2, g3 = np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.2, -0.4]), np.array([-0.3, 0.4, 0.0])
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p = _param()
    w = _run(optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps), p, [g1, g2, g3])

    # m_t and v_t unrolled from m_0 = v_0 = 0:
    m1, v1 = (1 - b1) * g1, (1 - b2) * g1**2
    m2, v2 = b1 * (1 - b1) * g1 + (1 - b1) * g2, b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    m3 = b1**2 * (1 - b1) * g1 + b1 * (1 - b1) * g2 + (1 - b1) * g3
    v3 = b2**2 * (1 - b2) * g1**2 + b2 * (1 - b2) * g2**2 + (1 - b2) * g3**2
    expected = W0.copy()
    for t, m, v in ((1, m1, v1), (2, m2, v2), (3, m3, v3)):
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        expected = expected - lr * m_hat / (np.sqrt(v_hat) + eps)
    # the first step alone is lr * sign(g1)
    np.testing.assert_allclose(W0 - lr * m1 / (1 - b1) / (np.sqrt(v1 / (1 - b2)) + eps), W0 - lr * np.sign(g1))
    np.testing.assert_allclose(w, expected, rtol=1e-5, atol=1e-6)


def test_adam_weight_decay_adds_to_the_gradient():
    # One step from a zero gradient: g = wd * p, so the step is lr * sign(p).
    p = _param()
    w1 = _run(optim.Adam([p], lr=0.01, weight_decay=0.1), p, [np.zeros(3)])
    np.testing.assert_allclose(w1, W0 - 0.01 * np.sign(W0), rtol=1e-6)


def test_adam_update_on_tensors_is_adam_step_and_differentiable(xp_backend, rng):
    """The unrolled GAN's look-ahead runs Adam's one update on Tensors: the same numbers as Adam.step
    (weight decay included), nothing passed in changed, and a gradient through the step."""
    p0, m0, v0 = rng.standard_normal(5), rng.standard_normal(5) * 0.1, rng.uniform(0.01, 0.1, 5)
    g0 = rng.standard_normal(5)
    hyper = dict(lr=0.01, betas=(0.5, 0.9), eps=1e-8, weight_decay=0.1)
    p = _param(p0.copy(), dtype="float64")  # a copy: Adam.step writes into it
    opt = optim.Adam([p], **hyper)
    xp = xp_backend.xp
    opt.state[0] = {"step": 3, "exp_avg": xp.array(m0), "exp_avg_sq": xp.array(v0)}  # copies: updated in place
    _set_grad(p, g0)
    opt.step()

    w = minigan.tensor(p0, dtype="float64", requires_grad=True)
    g = minigan.tensor(g0, dtype="float64", requires_grad=True)
    m, v = minigan.tensor(m0, dtype="float64"), minigan.tensor(v0, dtype="float64")
    new_w, new_m, new_v = optim.adam_update(optim.TENSOR_MATH, w, g, m, v, 4, **hyper)
    np.testing.assert_array_equal(new_w.numpy(), p.numpy())  # the same lines, the same rounding
    np.testing.assert_array_equal(new_m.numpy(), xp_backend.to_numpy(opt.state[0]["exp_avg"]))
    np.testing.assert_array_equal(new_v.numpy(), xp_backend.to_numpy(opt.state[0]["exp_avg_sq"]))
    np.testing.assert_array_equal(w.numpy(), p0)  # the inputs are untouched
    np.testing.assert_array_equal(m.numpy(), m0)
    # d new_w / d g and d new_w / d w (through the weight decay), against central differences
    assert minigan.gradcheck(lambda w, g: optim.adam_update(optim.TENSOR_MATH, w, g, m, v, 4, **hyper)[0], [w, g])
    assert minigan.gradgradcheck(lambda w, g: optim.adam_update(optim.TENSOR_MATH, w, g, m, v, 4, **hyper)[0],
                                 [w, g])


def test_sgd_with_momentum_and_weight_decay_matches_the_closed_form(xp_backend):
    g = np.array([0.5, -1.0, 2.0])
    lr, mu, wd = 0.1, 0.9, 0.01
    p = _param()
    w = _run(optim.SGD([p], lr=lr, momentum=mu, weight_decay=wd), p, [g, g, g])

    d1 = g + wd * W0
    buf1 = d1  # the first buffer is the gradient itself, no (1 - mu) factor
    w1 = W0 - lr * buf1
    buf2 = mu * buf1 + (g + wd * w1)
    w2 = w1 - lr * buf2
    buf3 = mu * buf2 + (g + wd * w2)
    w3 = w2 - lr * buf3
    np.testing.assert_allclose(w, w3, rtol=1e-6)


def test_plain_sgd_is_p_minus_lr_g():
    p = _param()
    np.testing.assert_allclose(_run(optim.SGD([p], lr=0.5), p, [np.ones(3)]), W0 - 0.5)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_first_two_steps_match_the_closed_form(momentum, xp_backend):
    g1, g2 = np.array([0.5, -1.0, 2.0]), np.array([-0.2, -1.0, 0.1])
    lr, alpha, eps = 0.01, 0.99, 1e-8
    p = _param()
    w = _run(optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps, momentum=momentum), p, [g1, g2])

    v1 = (1 - alpha) * g1**2
    v2 = alpha * v1 + (1 - alpha) * g2**2
    step1 = g1 / (np.sqrt(v1) + eps)  # = sign(g1) / sqrt(1 - alpha): 10x the gradient's sign
    step2 = g2 / (np.sqrt(v2) + eps) + momentum * step1
    np.testing.assert_allclose(step1, np.sign(g1) / math.sqrt(1 - alpha), rtol=1e-6)
    np.testing.assert_allclose(w, W0 - lr * step1 - lr * step2, rtol=1e-5)


# --------------------------------------------------------------------------- they minimise


OPTIMIZERS = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), 200),
    "adam": (lambda ps: optim.Adam(ps, lr=0.1), 300),
    "rmsprop": (lambda ps: optim.RMSprop(ps, lr=0.01), 600),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_minimises_a_quadratic(name, xp_backend):
    # f(w) = 0.5 * sum(a (w - c)^2): minimum at w = c, curvatures a of different sizes.
    make, steps = OPTIMIZERS[name]
    a, c = minigan.tensor([1.0, 3.0, 0.5]), minigan.tensor([1.0, -2.0, 3.0])
    w = minigan.zeros(3, requires_grad=True)
    opt = make([w])
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (a * (w - c) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(w.numpy(), c.numpy(), atol=1e-3)
    assert w.dtype == np.float32


# --------------------------------------------------------------------------- bookkeeping


# One of each optimizer, with every option that keeps state switched on.
ALL = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.999), weight_decay=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, weight_decay=0.01),
}


@pytest.mark.parametrize("name", list(ALL))
def test_params_without_grad_are_untouched(name):
    used, frozen = _param(), _param([3.0, 4.0])
    opt = ALL[name]([used, frozen])
    for _ in range(2):
        _set_grad(used, [1.0, 1.0, 1.0])
        opt.step()
    assert not np.allclose(used.numpy(), W0)
    np.testing.assert_array_equal(frozen.numpy(), [3.0, 4.0])  # not even weight decay touches it
    assert opt.state[1] == {}


def test_zero_grad_sets_grads_to_none_or_zeros():
    p, q = _param(), _param([1.0])
    opt = optim.SGD([p, q], lr=0.1)
    (p.sum() + q.sum()).backward()
    assert p.grad is not None
    opt.zero_grad()
    assert p.grad is None and q.grad is None
    (p.sum() * 2).backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    assert p.grad.dtype == np.float32 and q.grad is None


@pytest.mark.parametrize("name", list(ALL))
def test_float32_stays_float32(name, xp_backend):
    p = _param()
    # NumPy float64 scalars as hyperparameters must not promote the update to float64.
    opt = ALL[name]([p])
    opt.lr = np.float64(opt.lr)  # set by hand, unchecked: the in-place update still casts back
    data_before = p.data
    _run(opt, p, [[0.1, 0.2, 0.3]] * 3)
    assert p.data is data_before  # updated in place: the model's array is the optimizer's array
    assert p.dtype == np.float32
    for v in opt.state[0].values():
        if hasattr(v, "dtype"):
            assert v.dtype == np.float32
    opt2 = optim.Adam([p], lr=np.float64(0.1), betas=(np.float64(0.9), np.float64(0.99)))
    assert type(opt2.lr) is float and all(type(b) is float for b in opt2.betas)
    _run(opt2, p, [[0.1, 0.2, 0.3]])
    assert p.dtype == np.float32


@pytest.mark.parametrize("name", list(ALL))
def test_state_dict_round_trip_resumes_identically(name, xp_backend):
    rng = np.random.default_rng(0)
    grads = [(rng.standard_normal(3), rng.standard_normal((2, 2))) for _ in range(6)]
    make = ALL[name]

    a = [_param(), _param([[1.0, 2.0], [3.0, 4.0]])]
    opt_a = make(a)

    def step(opt, ps, gs):
        opt.zero_grad()
        for p, g in zip(ps, gs):
            _set_grad(p, g)
        opt.step()

    for gs in grads[:3]:
        step(opt_a, a, gs)
    saved = opt_a.state_dict()
    frozen_copy = copy.deepcopy(saved)
    for s in saved["state"]:
        for v in s.values():
            assert not hasattr(v, "dtype") or isinstance(v, np.ndarray)  # host arrays, plain numbers

    # A new model with the same weights and a fresh optimizer with other hyperparameters...
    b = [minigan.tensor(p.numpy(), requires_grad=True) for p in a]
    opt_b = make(b)
    opt_b.lr = 123.0
    opt_b.load_state_dict(saved)
    assert opt_b.lr == opt_a.lr
    for gs in grads[3:]:
        step(opt_a, a, gs)
        step(opt_b, b, gs)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    # the snapshot is a copy: the later steps did not change it
    for before, after in zip(frozen_copy["state"], saved["state"]):
        assert before.keys() == after.keys() and before  # every optimizer here keeps state
        for k in before:
            np.testing.assert_array_equal(before[k], after[k])


def test_state_dict_survives_a_json_like_trip():
    p = _param()
    opt = optim.Adam([p], betas=(0.5, 0.99))
    _run(opt, p, [[1.0, 1.0, 1.0]])
    sd = opt.state_dict()
    sd["hyperparameters"]["betas"] = list(sd["hyperparameters"]["betas"])  # JSON turns tuples into lists
    sd["param_shapes"] = [list(s) for s in sd["param_shapes"]]
    opt2 = optim.Adam([_param()])
    opt2.load_state_dict(sd)
    assert opt2.betas == (0.5, 0.99) and opt2.state[0]["step"] == 1


def test_load_state_dict_refuses_other_shapes_counts_and_types():
    p = _param()
    opt = optim.Adam([p])
    _run(opt, p, [[1.0, 1.0, 1.0]])
    sd = opt.state_dict()

    other = optim.Adam([_param([1.0, 2.0])])
    with pytest.raises(ValueError, match=r"Parameter 0 has shape \(2,\) here but \(3,\) in the state_dict"):
        other.load_state_dict(sd)
    assert other.state[0] == {}  # a failed load changes nothing

    with pytest.raises(ValueError, match="holds 1 parameters but this Adam has 2"):
        optim.Adam([_param(), _param()]).load_state_dict(sd)
    with pytest.raises(ValueError, match="from a Adam optimizer; load it into a Adam, not SGD"):
        optim.SGD([_param()], lr=0.1).load_state_dict(sd)
    sd["state"][0]["exp_avg"] = np.zeros(4, dtype=np.float32)
    with pytest.raises(ValueError, match="'exp_avg' for parameter 0 has shape"):
        optim.Adam([_param()]).load_state_dict(sd)
    with pytest.raises(ValueError, match="not a whole optimizer state_dict"):
        optim.Adam([_param()]).load_state_dict({"state": []})


# --------------------------------------------------------------------------- bad input


def test_bad_params_raise_clear_errors():
    with pytest.raises(ValueError, match="empty list of parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"pass \[w\] or model.parameters\(\)"):
        optim.Adam(_param())
    with pytest.raises(TypeError, match="Parameter 1 given to the optimizer is a ndarray"):
        optim.Adam([_param(), np.zeros(3)])
    p = _param()
    with pytest.raises(ValueError, match="appears twice"):
        optim.Adam([p, p])
    with pytest.raises(ValueError, match="lr must be at least 0.0, got -1.0"):
        optim.SGD([_param()], lr=-1.0)
    with pytest.raises(ValueError, match=r"beta2 must be in \[0.0, 1.0\), got 1.0"):
        optim.Adam([_param()], betas=(0.9, 1.0))


def test_a_generator_of_parameters_is_accepted():
    ps = [_param(), _param([1.0])]
    opt = optim.SGD((p for p in ps), lr=0.1)
    assert opt.params == ps
    assert "SGD(2 parameters, lr=0.1" in repr(opt)


def test_matches_torch_optim_when_torch_is_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(3) for _ in range(5)]
    pairs = [
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01)),
        (lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.999), weight_decay=0.01),
         lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.5, 0.999), weight_decay=0.01)),
        (lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, weight_decay=0.01),
         lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, weight_decay=0.01)),
    ]
    for ours_make, theirs_make in pairs:
        ours = _param(dtype="float64")
        theirs = torch.tensor(W0, requires_grad=True)
        opt, topt = ours_make([ours]), theirs_make([theirs])
        for g in grads:
            _set_grad(ours, g)
            opt.step()
            theirs.grad = torch.tensor(g)
            topt.step()
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
