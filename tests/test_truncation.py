"""Jacobian truncation: the norms equal central differences, the rule keeps the z where G stretches least,
and the sample/evaluate commands use it only when asked, failing in one sentence otherwise."""

import json

import numpy as np
import pytest

import minigan
from minigan import backend, evaluate, nn, sample, train
from minigan.gan import run as run_mod
from minigan.gan import truncation
from minigan.gan.models import Generator
from minigan.measure import evaluation


def _tensor(a):
    return minigan.Tensor(backend.current().asarray(a))


def _mlp_g(z_dim=3, out=2, seed=0):
    minigan.manual_seed(seed)
    body = nn.Sequential(nn.Linear(z_dim, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, out))
    return Generator(body.double(), z_dim, (out,))


def test_norms_equal_central_differences(xp_backend):
    G = _mlp_g()
    z = np.random.default_rng(1).standard_normal((7, 3))
    norms = truncation.jacobian_norms(G, _tensor(z))
    h = 1e-6
    expected = []
    for zi in z:
        cols = []
        for k in range(3):
            e = np.zeros(3)
            e[k] = h
            up = backend.to_numpy(G(_tensor((zi + e)[None])).data)[0]
            down = backend.to_numpy(G(_tensor((zi - e)[None])).data)[0]
            cols.append((up - down) / (2 * h))
        expected.append(np.linalg.norm(np.stack(cols, 1)))
    assert norms.shape == (7,)
    np.testing.assert_allclose(norms, expected, rtol=1e-7, atol=1e-9)


def test_a_linear_generator_stretches_every_z_alike(xp_backend):
    G = Generator(nn.Linear(4, 3).double(), 4, (3,))
    A = backend.to_numpy(G.body.weight.data)
    norms = truncation.jacobian_norms(G, _tensor(np.random.default_rng(2).standard_normal((5, 4))))
    np.testing.assert_allclose(norms, np.linalg.norm(A), rtol=1e-12)


def test_the_kept_z_are_those_far_from_the_jump_between_two_modes():
    # G(z) = (tanh(20 z1), 0): two modes at x1 = -1 and +1, a steep bridge at z1 = 0 where |dG/dz| = 20 sech^2(20 z1)
    lin = nn.Linear(2, 2, bias=False).double()
    lin.weight.data[...] = np.array([[20.0, 0.0], [0.0, 0.0]])
    G = Generator(nn.Sequential(lin, nn.Tanh()), 2, (2,))
    z = np.random.default_rng(3).standard_normal((1000, 2))
    kept = truncation.truncate(G, _tensor(z), 800)
    assert kept.shape == (800,) and np.all(np.diff(kept) > 0)
    np.testing.assert_array_equal(kept, np.sort(np.argsort(-np.abs(z[:, 0]))[:800]))
    x = np.tanh(20 * z[:, 0])
    assert np.mean(np.abs(x) > 0.99) < 0.9 and np.all(np.abs(x[kept]) > 0.99)  # the bridge is gone


def test_the_number_to_draw_and_bad_fractions():
    assert truncation.n_to_draw(2500, 1.0) == 2500
    assert truncation.n_to_draw(2500, 0.9) == 2778  # ceil(2777.8)
    assert truncation.n_to_draw(100, 0.5) == 200
    for bad in (0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"keep must be a fraction in \(0, 1\]"):
            truncation.n_to_draw(10, bad)
    with pytest.raises(ValueError, match="cannot keep 11 of 10"):
        truncation.truncate(_mlp_g(), _tensor(np.zeros((10, 3))), 11)


def test_wide_outputs_are_refused_in_one_sentence():
    G = _mlp_g(out=truncation.MAX_OUTPUTS + 1)
    with pytest.raises(ValueError, match="meant for low-dimensional data such as the 2-D toys"):
        truncation.jacobian_norms(G, _tensor(np.zeros((2, 3))))


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "ring8"
    assert train.main(["--quiet", "--dataset", "ring8", "--steps", "30", "--z-dim", "2", "--out", str(out)]) == 0
    return out


def test_draw_keeps_the_least_stretched_of_n_over_keep(ring_run):
    plain, _ = run_mod.draw(ring_run, 50, seed=4)
    same, _ = run_mod.draw(ring_run, 50, seed=4, keep=1.0)
    np.testing.assert_array_equal(plain, same)
    cut, _ = run_mod.draw(ring_run, 50, seed=4, keep=0.5)  # the 50 of 100 z (same seed) with the smallest norms
    from minigan.gan.run import Run

    run = Run.open(ring_run)
    z = np.random.default_rng(4).standard_normal((100, 2)).astype(np.float32)
    norms = truncation.jacobian_norms(run.gan.G, _tensor(z))
    want = run.samples(_tensor(z[np.sort(np.argsort(norms)[:50])]))
    assert cut.shape == (50, 2)
    np.testing.assert_array_equal(cut, want)
    np.testing.assert_array_equal(plain, run.samples(_tensor(z[:50])))  # keep=1 draws the first 50 as before


def test_evaluate_reports_the_truncation(ring_run, capsys):
    out = ring_run / "t.json"
    assert evaluate.main(["--run", str(ring_run), "--n", "200", "--keep", "0.8", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    m = json.loads(out.read_text())
    assert m["keep"] == 0.8 and m["n_samples"] == 200 and "Jacobian-truncated: the 80% of z" in text
    x, _ = run_mod.draw(ring_run, 200, seed=0, keep=0.8)
    assert m["samples"] == evaluation.evaluate_samples(x, "ring8")["samples"]


@pytest.mark.parametrize("args, message", [
    (["--keep", "1.5"], "keep must be a fraction in (0, 1]"),
    (["--keep", "0"], "keep must be a fraction in (0, 1]"),
])
def test_bad_keep_is_one_sentence(ring_run, capsys, args, message):
    assert evaluate.main(["--run", str(ring_run), "--out", str(ring_run / "x.json"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigan.evaluate: error: ") and message in err and err.count("\n") == 1
    assert sample.main(["--run", str(ring_run), "--npy", str(ring_run / "x.npy"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigan.sample: error: ") and message in err and err.count("\n") == 1


def test_keep_goes_with_a_run_not_with_samples(tmp_path, capsys):
    np.save(tmp_path / "s.npy", np.zeros((4, 2)))
    with pytest.raises(SystemExit):
        evaluate.main(["--dataset", "ring8", "--samples", str(tmp_path / "s.npy"), "--keep", "0.9"])
    assert "--keep truncates a run's noise: it goes with --run" in capsys.readouterr().err


def test_keep_is_for_the_toys(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "mnist"}))
    assert evaluate.main(["--run", str(tmp_path), "--keep", "0.9"]) == 2
    err = capsys.readouterr().err
    assert "--keep < 1 (Jacobian truncation) is for the 2-D toys, not mnist." in err and err.count("\n") == 1
