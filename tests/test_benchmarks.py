"""The benchmark scripts run (one iteration each, so they never rot) and count FLOPs as documented.

No timing is asserted here: a benchmark writes a table, the test suite checks values.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigan
from minigan.data import DataLoader
from minigan.gan import trainer as gan
from minigan.gan.run import Run

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_train, harness  # noqa: E402


def _run(script, *args):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--threads", "1", *args],
                          capture_output=True, text=True, timeout=300, env=harness.thread_env(1))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("torch_flag", [[], ["--no-torch"]])
def test_bench_train_quick_prints_a_table(torch_flag):
    out = _run("bench_train.py", "--models", "mlp", *torch_flag)
    row = next(line for line in out.splitlines() if line.startswith("| mlp |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:3] == ["mlp", "128", "1"]
    assert float(cells[3]) > 0  # minigan ms
    if torch_flag or not harness.have_torch():
        assert cells[4] == "-" and "PyTorch columns are empty" in out
    else:
        assert float(cells[4]) > 0 and float(cells[5]) > 0


def test_bench_ops_quick_prints_every_op():
    out = _run("bench_ops.py", "--no-torch")
    for op in ("linear", "conv2d", "conv_transpose2d", "batch_norm"):
        assert f"| {op} " in out
    assert "PyTorch columns are empty" in out


def test_flop_count_of_the_mlp_by_hand():
    # Multiply-adds per sample: G 64*256 + 256*256 + 256*784, D 784*256 + 256*256 + 256*1.
    g = 64 * 256 + 256 * 256 + 256 * 784
    d1, d_rest = 784 * 256, 256 * 256 + 256
    d_step = g + 2 * ((d1 + d_rest) * 2 + d_rest)  # fwd + weight grads + input grads but the first layer's
    g_step = g + (d1 + d_rest) * 2 + g + (g - 64 * 256)
    assert bench_train.iteration_flops("mlp") == 2 * 128 * (d_step + g_step)


def test_torch_twin_has_the_same_weights():
    torch = pytest.importorskip("torch")
    import numpy as np

    import minigan
    from minigan.gan import models

    G, _ = models.build("dcgan", (1, 28, 28))
    twin = bench_train.torch_twin(G.body).eval()
    G.eval()
    z = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float32)
    with minigan.no_grad():
        ours = G(minigan.tensor(z)).numpy()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)



# ---- benchmarks/torch_gan.py: minigan's MLP run, trained by PyTorch

MNIST = Path(os.environ.get("MINIGAN_DATA", ROOT.parent / "shared" / "data" / "mnist"))
VARIANTS = {"vanilla": [], "conditional": ["--conditional"], "wgan-gp": ["--loss", "wgan-gp"]}


def _torch_gan():
    pytest.importorskip("torch")
    from benchmarks import torch_gan

    return torch_gan


def _twins(*flags):
    """The resolved config, minigan's GAN and torch_gan's twin for the MLP run ``flags`` describe (seed 3)."""
    torch_gan = _torch_gan()
    cfg = torch_gan.resolve(torch_gan._parser().parse_args(["--out", "unused", "--seed", "3", *flags]))
    ours, twin = torch_gan.build(cfg, 10 if cfg["conditional"] else 0)
    return cfg, ours, twin


def _assert_same_grads(mine, theirs):
    """minigan's and torch's gradients, parameter by parameter, to float32 rounding."""
    # None where a weight does not reach the loss (D's last bias, under the penalty alone)
    a = [np.zeros(p.shape, np.float32) if p.grad is None else p.grad.numpy() for p in mine.parameters()]
    b = [np.zeros_like(x) if p.grad is None else p.grad.numpy() for x, p in zip(a, theirs.parameters())]
    assert len(a) == len(b) == 6 and np.abs(a[0]).max() > 0
    for x, y in zip(a, b):
        np.testing.assert_allclose(y, x, rtol=1e-4, atol=1e-5 * np.abs(x).max())


def test_torch_gan_starts_from_minigans_weights_with_minigans_settings():
    torch = pytest.importorskip("torch")
    cfg, ours, twin = _twins("--conditional", "--loss", "wgan-gp")
    assert (cfg["lr"], cfg["beta1"], cfg["beta2"], cfg["gp_weight"], cfg["d_steps"]) == (1e-4, 0.0, 0.9, 10.0, 5)
    assert cfg["batch_size"] == 128 and cfg["steps"] == 6200 and cfg["lr_decay"] == "none"  # the recipes'
    assert cfg["condition"] == "concat"
    assert twin.opt_d.defaults["betas"] == (0.0, 0.9) and twin.opt_g.defaults["lr"] == 1e-4
    for mine, theirs in ((ours.G, twin.G), (ours.D, twin.D)):
        a, b = [p.data for p in mine.parameters()], [p.detach().numpy() for p in theirs.parameters()]
        assert [x.shape for x in a] == [x.shape for x in b] and len(a) == 6
        for x, y in zip(a, b):
            np.testing.assert_array_equal(y, x)  # copied, not drawn again
    assert twin.G[0].in_features == 64 + 10 and twin.D[1].in_features == 784 + 10  # one-hot y concatenated
    assert isinstance(twin.G[-2], torch.nn.Tanh) and tuple(twin.G[-1].unflattened_size) == (1, 28, 28)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_torch_gan_d_and_g_step_gradients_equal_minigans(variant):
    """Same batch and the same generator state (so the same z, fakes' labels and eps): the same gradients."""
    _, ours, twin = _twins(*VARIANTS[variant])
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (16, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 16) if ours.n_classes else None
    start = twin.rng.bit_generator.state  # twin.rng is minigan's generator
    d_ours = ours.d_step(x, y)
    after, twin.rng.bit_generator.state = twin.rng.bit_generator.state, start
    d_twin = twin.d_step(twin._tensor(x), None if y is None else twin._tensor(y))
    assert twin.rng.bit_generator.state == after  # the twin drew exactly as many numbers
    assert d_twin == pytest.approx(d_ours, rel=1e-5, abs=1e-5)
    _assert_same_grads(ours.D, twin.D)
    g_ours = ours.g_step(16)
    twin.rng.bit_generator.state = after
    g_twin = twin.g_step(16)
    assert g_twin == pytest.approx(g_ours, rel=1e-5, abs=1e-5)
    _assert_same_grads(ours.G, twin.G)


def test_torch_gan_penalty_matches_minigans_for_the_same_eps():
    """torch_gan's gradient_penalty takes eps; minigan's draws it with rand(), which the same seed replays."""
    torch = pytest.importorskip("torch")
    torch_gan = _torch_gan()
    _, ours, twin = _twins("--loss", "wgan-gp")
    rng = np.random.default_rng(6)
    real, fake = (rng.uniform(-1, 1, (8, 1, 28, 28)).astype(np.float32) for _ in range(2))
    minigan.manual_seed(11)
    mine = gan.gradient_penalty(ours.D, minigan.tensor(real), minigan.tensor(fake))
    mine.backward()
    eps = np.random.default_rng(11).random((8, 1, 1, 1), dtype=np.float64).astype(np.float32)
    theirs = torch_gan.gradient_penalty(twin.d, torch.from_numpy(real), torch.from_numpy(fake), torch.from_numpy(eps))
    theirs.backward()
    assert theirs.item() == pytest.approx(float(mine.data), rel=1e-5) and theirs.item() > 0.1
    _assert_same_grads(ours.D, twin.D)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_torch_gan_trains_minigans_run_and_writes_what_evaluate_scores(variant, tmp_path):
    torch_gan = _torch_gan()
    if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"no MNIST test files in {MNIST} (set MINIGAN_DATA)")
    flags = ["--dataset", "mnist", "--split", "test", "--steps", "3", "--seed", "1", "--data-dir", str(MNIST),
             *VARIANTS[variant]]
    assert torch_gan.main([*flags, "--quiet", "--threads", "1", "--out", str(tmp_path)]) == 0
    x = np.load(tmp_path / "samples.npy")
    assert x.shape == (10_000, 1, 28, 28) and x.dtype == np.float32
    assert -1 <= x.min() < x.max() <= 1 and x.std() > 0.01
    info = json.loads((tmp_path / "info.json").read_text())
    cfg = info["config"]
    assert info["steps"] == 3 and info["n_data"] == 8000 and cfg["batch_size"] == 128 and cfg["model"] == "mlp"
    assert info["train_seconds"] > 0 and set(info["final"]) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert (tmp_path / "samples.png").stat().st_size > 1000
    assert "--protocol test-8000/2000" in info["evaluate"]
    y = None
    if variant == "conditional":
        y = np.load(tmp_path / "labels.npy")
        assert y.dtype == np.int64 and np.array_equal(np.bincount(y), [1000] * 10) and np.all(np.diff(y) >= 0)
        assert f"--labels {tmp_path / 'labels.npy'}" in info["evaluate"]
    else:
        assert not (tmp_path / "labels.npy").exists() and "--labels" not in info["evaluate"]
    # minigan's trainer, 3 steps from the same seed (same batches, z, labels, eps): the same losses and samples
    ours, _ = torch_gan.build(cfg, 10 if cfg["conditional"] else 0)
    data, labels = torch_gan.load_data(cfg)
    loader = DataLoader(*((data, labels) if ours.n_classes else (data,)), batch_size=128)
    batches = loader.batches()
    for _ in range(3):
        numbers = ours.train_step(batches)
    assert info["final"] == pytest.approx(numbers, rel=1e-4, abs=1e-5)
    z = minigan.tensor(np.random.default_rng(0).standard_normal((10_000, 64)).astype(np.float32)[:500])
    mine = ours.generate(z, None if y is None else y[:500]).data
    np.testing.assert_allclose(x[:500], mine, atol=1e-4)
    # and the epoch budget becomes steps as minigan's Run counts them (wgan-gp: 5 batches per G step)
    cfg = {**cfg, "steps": None, "epochs": 20, "out": str(tmp_path / "unused")}
    assert torch_gan.total_steps(cfg, len(loader)) == Run(cfg).total_steps == (248 if variant == "wgan-gp" else 1240)


def test_quality_toy_trains_scores_tables_and_draws(tmp_path, capsys):
    """Two tiny runs through the driver: trained once, scored, tabled with a median row, drawn."""
    from benchmarks import quality_toy

    argv = ["--dataset", "ring8", "--variants", "vanilla@0,standardized-z2@0", "--root", str(tmp_path),
            "--", "--steps", "3", "--batch-size", "16", "--width", "8", "--sample-every", "3"]
    assert quality_toy.main(argv) == 0
    table = capsys.readouterr().out
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| variant | seed | modes covered") and len(rows) == 5  # header + 2 runs + 2 medians
    assert "| **vanilla median** |" in table and "| **standardized-z2 median** |" in table
    metrics = json.loads((tmp_path / "ring8-vanilla-s0" / "metrics.json").read_text())["samples"]
    assert f"| vanilla | 0 | {metrics['modes_covered']} / 8 | {100 * metrics['high_quality']:.1f}% |" in table
    cfg = json.loads((tmp_path / "ring8-standardized-z2-s0" / "config.json").read_text())
    assert cfg["standardize"] is True and cfg["z_dim"] == 2 and cfg["steps"] == 3  # the later --steps wins
    assert json.loads((tmp_path / "ring8-vanilla-s0" / "cpu.json").read_text())["train_cpu_seconds"] > 0
    stamp = (tmp_path / "ring8-vanilla-s0" / "cpu.json").stat().st_mtime
    assert quality_toy.main(argv) == 0  # the second time nothing is retrained
    assert (tmp_path / "ring8-vanilla-s0" / "cpu.json").stat().st_mtime == stamp
    capsys.readouterr()
    assert quality_toy.main(argv[:6] + ["--keep", "0.5"]) == 0  # the truncated columns beside the plain ones
    table = capsys.readouterr().out
    cut = json.loads((tmp_path / "ring8-vanilla-s0" / "metrics-keep0.5.json").read_text())
    assert cut["keep"] == 0.5 and "truncated (50% kept): modes | HQ | reverse KL |" in table
    assert (f"| vanilla | 0 | {metrics['modes_covered']} / 8 | {100 * metrics['high_quality']:.1f}% | "
            f"{metrics['reverse_kl']:.3f} |") in table
    assert f"| {cut['samples']['modes_covered']} / 8 | {100 * cut['samples']['high_quality']:.1f}% |" in table
    png = tmp_path / "fig.png"
    assert quality_toy.main(["--dataset", "ring8", "--root", str(tmp_path), "--figure", str(png),
                             "--panels", "vanilla:0,standardized-z2:0:0.5"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_quality_toy_reads_seed_ranges_and_lists():
    from benchmarks import quality_toy

    assert quality_toy._seeds("0-4") == [0, 1, 2, 3, 4]
    assert quality_toy._seeds("0,3") == [0, 3]
    assert quality_toy._seeds("0-2,10-11,7") == [0, 1, 2, 10, 11, 7]


# ---- benchmarks/compare_backends.py: the trainer on NumPy and on CuPy, the same first steps


def test_compare_backends_on_the_standin_gives_the_same_losses_exactly(tmp_path, capsys):
    """The stand-in computes with NumPy: the trainer's numbers on it are NumPy's, to the last digit."""
    from benchmarks import compare_backends

    argv = ["--models", "mlp", "--steps", "3", "--standin", "--tol", "0", "--out", str(tmp_path)]
    assert compare_backends.main(argv) == 0
    figures = json.loads((tmp_path / "compare.json").read_text())["models"]["mlp"]
    assert figures["ok"] and figures["max_rel"] == 0 and figures["steps"] == figures["steps_cupy"] == 3
    ours, standin = (compare_backends.read_metrics(tmp_path / f"mlp-{side}") for side in ("numpy", "cupy"))
    assert [r["step"] for r in ours] == ["1", "2", "3"]
    for a, b in zip(ours, standin):
        assert [a[c] for c in ("d_loss", "g_loss", "d_real", "d_fake")] == \
               [b[c] for c in ("d_loss", "g_loss", "d_real", "d_fake")]
    assert "strict_cupy:" in (tmp_path / "mlp-cupy.log").read_text()  # the CuPy side really ran on the stand-in
    assert not (tmp_path / "mlp-numpy" / "checkpoint.npz").exists()
    table = capsys.readouterr().out
    assert f"| 1 | {ours[0]['d_loss']} | {ours[0]['d_loss']} | {ours[0]['g_loss']} | {ours[0]['g_loss']} | 0 |" in table
    assert "| mlp | 3 | 0 | 0 | 0 | ok |" in (tmp_path / "compare.md").read_text()


def test_compare_backends_measures_the_largest_relative_difference():
    from benchmarks import compare_backends

    def rows(*losses):
        return [{"step": str(i + 1), "d_loss": d, "g_loss": g, "d_real": "0.5", "d_fake": "0.5"}
                for i, (d, g) in enumerate(losses)]

    r = compare_backends.compare(rows(("1.0", "0.7"), ("1.2", "0.8")), rows(("1.0", "0.7"), ("1.2", "0.8016")))
    assert r["max_rel"] == pytest.approx(0.0016 / 0.8016) and r["max_rel_step"] == 2
    assert r["worst"]["d_loss"] == (0.0, 1) and r["same_length"]
    assert compare_backends.rel_diff("1.38778", "1.38779") == pytest.approx(1e-5 / 1.38779)
    assert compare_backends.rel_diff("nan", "1") == float("inf")
    assert not compare_backends.compare(rows(("1", "1")), rows(("1", "1"), ("1", "1")))["same_length"]


# ---- benchmarks/bench_lab.py: the lab's iterations per second through its API


def test_bench_lab_quick_prints_a_row_for_every_path():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_lab.py"), "--quick", "--threads", "1",
                           "--no-torch", "--no-browser"], capture_output=True, text=True, timeout=300,
                          env=harness.thread_env(1))
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and not line.startswith("| path")]
    names = [r.split("|")[1].strip() for r in rows]
    assert names == ["GAN.train_step alone (no server, no views)",
                     *(f"the API, {c} per request, as fast as it answers" for c in (1, 5, 20)),
                     "the API at the page's pace (5 per frame, a frame per 100 ms)"]
    for r in rows:
        done, secs, rate = (float(c) for c in r.strip("|").split("|")[1:])
        # the seconds are printed to 0.01 s, the rate to 0.1: their quotient agrees up to that rounding
        assert done >= 1 and secs >= 0.5 and rate == pytest.approx(done / secs, rel=0.006 / secs, abs=0.06)
    assert "the browser row is left out" in proc.stdout and "its row is left out" in proc.stdout
