"""Exercise adam: one Adam step with bias correction (minigan/optim.py, Adam._update).

The expected values were computed with torch.optim.Adam (float64) from the same start and gradients.
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
