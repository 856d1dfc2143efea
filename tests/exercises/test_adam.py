"""Exercise adam: one RMSprop step and one Adam step with bias correction (minigan/optim.py, RMSprop._update
and adam_update, the step Adam.step and the unrolled GAN's look-ahead both take).

Adam's expected values were computed with torch.optim.Adam (float64) from the same start and gradients;
RMSprop's with minigan's own RMSprop, which tests/test_optim.py holds equal to torch.optim.RMSprop where
torch is installed.
"""

import numpy as np

import minigan
from minigan import optim

START = [[0.5, -1.0, 2.0], [0.0, 0.25, -3.0]]
GRADS = [
    [[0.1, -0.2, 3.0], [1e-3, -5.0, 0.5]],
    [[-0.3, 0.1, 1.0], [2.0, -4.0, 0.0]],
    [[0.2, 0.2, -2.0], [-1.0, 0.5, 0.25]],
]
# torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8): p after each step, then m and v.
TORCH_DEFAULT = {
    "p": [
        [[0.400000009999999, -0.9000000049999998, 1.9000000003333333],
         [-0.09999900000999991, 0.3499999998, -3.099999998]],
        [[0.44941899112006545, -0.8733663027186758, 1.8128936056505294],
         [-0.17444615870088098, 0.44881257999405433, -3.167005821517969]],
        [[0.44754022176593455, -0.9006359802389327, 1.790171083556931],
         [-0.1973333436518771, 0.5199856663887098, -3.2419155061282687]],
    ],
    "m": [[0.001100000000000001, 0.012799999999999997, 0.13299999999999998],
          [0.080081, -0.7149999999999999, 0.06549999999999999]],
    "v": [[0.0001398900100000001, 8.99100400000001e-05, 0.013981009000000011],
          [0.004996000998001004, 0.04118402500000004, 0.0003120002500000003]],
}
# torch.optim.Adam([p], lr=0.01, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.1): p after the third step.
TORCH_WEIGHT_DECAY = [[0.49151499809262905, -0.9861593897588936, 1.9833070535999588],
                      [-0.01941828444388801, 0.27375772431354506, -3.0006610599591723]]


def run(opt, p, steps):
    for g in GRADS[:steps]:
        p.grad = minigan.tensor(np.array(g))
        opt.step()


def test_the_first_step_moves_every_weight_by_lr_against_its_gradient():
    """m_hat / sqrt(v_hat) = g / |g| on step 1: a step of exactly lr, whatever the gradient's size."""
    p = minigan.tensor(np.array(START), requires_grad=True)
    run(optim.Adam([p], lr=0.1), p, 1)
    # atol: eps = 1e-8 shortens the step by 1e-6 where |g| = 1e-3.
    np.testing.assert_allclose(p.numpy(), np.array(START) - 0.1 * np.sign(GRADS[0]), atol=1e-5)


def test_three_steps_match_torch():
    p = minigan.tensor(np.array(START), requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    for i in range(3):
        p.grad = minigan.tensor(np.array(GRADS[i]))
        opt.step()
        np.testing.assert_allclose(p.numpy(), TORCH_DEFAULT["p"][i], rtol=1e-10, atol=1e-12, err_msg=f"step {i + 1}")


def test_the_state_holds_the_step_count_and_both_moments():
    p = minigan.tensor(np.array(START), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    run(opt, p, 3)
    state = opt.state[0]
    assert state["step"] == 3
    np.testing.assert_allclose(state["exp_avg"], TORCH_DEFAULT["m"], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(state["exp_avg_sq"], TORCH_DEFAULT["v"], rtol=1e-10, atol=1e-15)


def test_weight_decay_matches_torch():
    p = minigan.tensor(np.array(START), requires_grad=True)
    run(optim.Adam([p], lr=0.01, betas=(0.5, 0.999), weight_decay=0.1), p, 3)
    np.testing.assert_allclose(p.numpy(), TORCH_WEIGHT_DECAY, rtol=1e-10, atol=1e-12)


def test_float32_parameters_are_updated_in_place_and_stay_float32():
    p = minigan.tensor(np.array(START, dtype=np.float32), requires_grad=True)
    array = p.data
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigan.tensor(np.array(GRADS[0], dtype=np.float32))
    opt.step()
    assert p.data is array, "write into p.data (p.data -= ...): the model holds that array"
    assert p.data.dtype == np.float32
    assert opt.state[0]["exp_avg"].dtype == np.float32 and opt.state[0]["exp_avg_sq"].dtype == np.float32
    np.testing.assert_allclose(p.numpy(), np.array(START) - 0.1 * np.sign(GRADS[0]), atol=1e-5)


def test_a_step_then_a_checkpoint_round_trip_continues_identically():
    a = minigan.tensor(np.array(START), requires_grad=True)
    opt_a = optim.Adam([a], lr=0.1)
    run(opt_a, a, 2)
    b = minigan.tensor(a.numpy().copy(), requires_grad=True)
    opt_b = optim.Adam([b], lr=0.1)
    opt_b.load_state_dict(opt_a.state_dict())
    for p, opt in ((a, opt_a), (b, opt_b)):
        p.grad = minigan.tensor(np.array(GRADS[2]))
        opt.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(a.numpy(), TORCH_DEFAULT["p"][2], rtol=1e-10, atol=1e-12)


def test_the_same_step_runs_on_tensors_and_can_be_differentiated():
    """The unrolled GAN runs adam_update on Tensors (xp = optim.TENSOR_MATH): the same numbers as on arrays,
    its inputs left as they were, and a gradient through the step."""
    p0 = np.array(START)
    m0, v0 = np.array(TORCH_DEFAULT["m"]), np.array(TORCH_DEFAULT["v"])
    g0 = np.array(GRADS[0])
    hyper = dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    on_arrays = optim.adam_update(np, p0.copy(), g0, m0.copy(), v0.copy(), 4, **hyper)
    w = minigan.tensor(p0, requires_grad=True)
    g = minigan.tensor(g0, requires_grad=True)
    m, v = minigan.tensor(m0), minigan.tensor(v0)
    on_tensors = optim.adam_update(optim.TENSOR_MATH, w, g, m, v, 4, **hyper)
    assert all(isinstance(t, minigan.Tensor) for t in on_tensors), "return (p, m, v): new Tensors for Tensors"
    for a, t in zip(on_arrays, on_tensors):
        np.testing.assert_allclose(t.numpy(), a, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(w.numpy(), START)  # nothing passed in was changed
    np.testing.assert_array_equal(m.numpy(), TORCH_DEFAULT["m"])
    (dg,) = minigan.grad(on_tensors[0].sum(), [g])  # d new_p / d g: the look-ahead's path to G
    assert dg.shape == g.shape and np.isfinite(dg.numpy()).all() and (dg.numpy() < 0).all()


# RMSprop([p], lr=0.01, alpha=0.99, eps=1e-8 [, momentum=0.5, weight_decay=0.01]): p after each step.
RMSPROP = {
    "plain": [[[0.40000009999990005, -0.9000000499999751, 1.9000000033333333],
               [-0.09999000099989998, 0.349999998, -3.0999999800000038]],
              [[0.4949158695451294, -0.9449013553453876, 1.8682339574429252],
               [-0.19998998362490372, 0.41266083301744144, -3.0999999800000038]],
              [[0.4412525921523935, -1.0119023499828725, 1.922050896604045],
               [-0.15508866457060697, 0.4048130479929564, -3.1450816210538375]]],
    "momentum": [[[0.40000009523800456, -0.900000047619025, 1.9000000033112583],
                  [-0.09999000099989998, 0.3499999979989995, -3.099999978723409]],
                 [[0.44429883691934363, -0.8899292363269053, 1.8178846947256135],
                  [-0.24998498410996967, 0.46264655004261135, -3.143385513831027]],
                 [[0.41167975196970635, -0.9493357875164403, 1.8299941488177425],
                  [-0.2799736617482211, 0.5110447823508939, -3.207518170087415]]],
}


def test_three_rmsprop_steps_with_and_without_momentum():
    for name, kwargs in (("plain", {}), ("momentum", {"momentum": 0.5, "weight_decay": 0.01})):
        p = minigan.tensor(np.array(START), requires_grad=True)
        opt = optim.RMSprop([p], lr=0.01, **kwargs)
        for g, expected in zip(GRADS, RMSPROP[name]):
            p.grad = minigan.tensor(np.array(g))
            opt.step()
            np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12, atol=1e-15)
        assert opt.state[0]["step"] == 3


def test_rmsprop_updates_float32_in_place():
    data = np.array(START, dtype=np.float32)
    p = minigan.tensor(data, requires_grad=True)
    opt = optim.RMSprop([p], lr=0.01)
    p.grad = minigan.tensor(np.array(GRADS[0], dtype=np.float32))
    opt.step()
    assert p.data is data and p.dtype == np.float32 and opt.state[0]["square_avg"].dtype == np.float32
    np.testing.assert_allclose(p.numpy(), RMSPROP["plain"][0], rtol=1e-5)
