"""End to end: ``python -m minigan.train`` and ``python -m minigan.sample`` write what they promise.

Runs are short (tens of steps) so the whole file takes seconds; every output file is opened
and checked. The image runs use the real MNIST test files in ../shared/data/mnist.
"""

import csv
import json
import os
import signal
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from PIL import Image

from minigan import sample, train
from minigan.data import datasets
from minigan.gan import checkpoint, config
from minigan.gan import run as run_mod
from minigan.gan import trainer as gan

MNIST = Path(os.environ.get("MINIGAN_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                                 reason=f"the MNIST test files are not in {MNIST}")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test here may reach the network or the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "MIRRORS", {k: ["http://127.0.0.1:9/"] for k in datasets.MIRRORS})


def run_train(*args):
    return train.main(["--quiet", *map(str, args)])


def read_metrics(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_ring8_run_writes_every_file(tmp_path):
    out = tmp_path / "ring8"
    assert run_train("--dataset", "ring8", "--steps", 20, "--sample-every", 10, "--batch-size", 64, "--out", out) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["dataset"] == "ring8" and cfg["model"] == "mlp" and cfg["steps"] == 20 and cfg["batch_size"] == 64
    rows = read_metrics(out / "metrics.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 21))
    for r in rows:
        assert all(np.isfinite(float(r[k])) for k in ("d_loss", "g_loss", "d_real", "d_fake"))
        assert 0 < float(r["d_real"]) < 1 and 0 < float(r["d_fake"]) < 1
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["step_0000010.png", "step_0000020.png"]
    gif = Image.open(out / "training.gif")
    assert gif.n_frames == 2
    for name in ("field.png", "losses.png", "d_outputs.png"):
        img = matplotlib.image.imread(out / name)
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200 and img.std() > 0.05, name
    state = checkpoint.load(out / "checkpoint.npz")
    assert state["step"] == 20 and state["config"]["dataset"] == "ring8"


@needs_mnist
@pytest.mark.parametrize("model", ["dcgan", "mlp"])
def test_mnist_test_split_run_and_sample(tmp_path, model, capsys):
    out = tmp_path / model
    code = run_train("--dataset", "mnist", "--split", "test", "--model", model, "--steps", 4, "--batch-size", 8,
                     "--sample-every", 2, "--z-dim", 16, "--data-dir", MNIST, "--out", out)
    assert code == 0
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_0000002.png", "step_0000004.png"]
    grid = matplotlib.image.imread(out / "samples.png")
    # 64 samples: an 8 x 8 grid of 28-pixel images with 2-pixel padding, drawn at twice the size.
    assert grid.shape[:2] == (2 * (8 * 30 + 2), 2 * (8 * 30 + 2))
    assert len(read_metrics(out / "metrics.csv")) == 4
    assert sample.main(["--run", str(out), "--n", "10", "--out", str(tmp_path / "g.png"),
                        "--npy", str(tmp_path / "s.npy")]) == 0
    x = np.load(tmp_path / "s.npy")
    assert x.shape == (10, 1, 28, 28) and x.dtype == np.float32
    assert x.min() >= -1 and x.max() <= 1 and x.std() > 0
    assert (tmp_path / "g.png").exists()


def test_sample_of_a_2d_run_saves_points(tmp_path):
    out = tmp_path / "grid"
    assert run_train("--dataset", "grid25", "--steps", 5, "--sample-every", 5, "--out", out) == 0
    assert sample.main(["--run", str(out), "--n", "300", "--npy", str(tmp_path / "p.npy"),
                        "--out", str(tmp_path / "p.png")]) == 0
    p = np.load(tmp_path / "p.npy")
    assert p.shape == (300, 2) and np.isfinite(p).all()
    assert matplotlib.image.imread(tmp_path / "p.png").ndim == 3
    # The same seed draws the same samples.
    assert sample.main(["--run", str(out), "--n", "300", "--npy", str(tmp_path / "q.npy")]) == 0
    np.testing.assert_array_equal(p, np.load(tmp_path / "q.npy"))


def _final_state(out):
    state = checkpoint.load(out / "checkpoint.npz")
    arrays, _ = checkpoint.flatten({k: state[k] for k in ("gan", "loader")})
    return arrays, state["rng"], state["step"]


def _numbers(out):
    return [{k: r[k] for k in ("step", "epoch", "d_loss", "g_loss", "d_real", "d_fake")}
            for r in read_metrics(out / "metrics.csv")]


def _stop_at(monkeypatch, step):
    """Make the run receive Ctrl-C during its ``step``-th step."""
    real_step = gan.GAN.train_step
    calls = {"n": 0}

    def step_then_ctrl_c(self, batches):
        calls["n"] += 1
        if calls["n"] == step:
            os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the step
        return real_step(self, batches)

    monkeypatch.setattr(gan.GAN, "train_step", step_then_ctrl_c)
    return real_step


@pytest.mark.parametrize("dataset,how,extra", [("ring8", "extend", []), ("mnist", "extend", []),
                                               ("ring8", "interrupt", []), ("ring8", "interrupt", ["--ema", 0.9])])
def test_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path, monkeypatch, dataset, how, extra):
    """N steps + resume + N steps == 2N steps: weights, optimizer states, loader, generator and metrics.

    "extend": a finished 5-step run continued to 12 (a constant learning rate, since a decaying
    schedule depends on the total). "interrupt": a 12-step run with the toys' linear decay,
    stopped by Ctrl-C during step 5 and resumed; once more with --ema (G's running average is
    part of the checkpoint).
    """
    if dataset == "mnist" and not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the MNIST test files are not in {MNIST}")
    common = ["--dataset", dataset, "--sample-every", 3, "--batch-size", 16, "--z-dim", 8, *extra]
    if dataset == "mnist":  # small, with BatchNorm buffers and an epoch boundary inside the run
        common += ["--split", "test", "--data-dir", MNIST, "--width", 4]
    if how == "extend":
        common += ["--lr-decay", "none"]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert run_train(*common, "--steps", 12, "--out", whole) == 0
    if how == "extend":
        assert run_train(*common, "--steps", 5, "--out", parts) == 0
        assert run_train("--resume", parts, "--steps", 12) == 0
    else:
        real_step = _stop_at(monkeypatch, 5)
        with pytest.raises(SystemExit):
            run_train(*common, "--steps", 12, "--out", parts)
        monkeypatch.setattr(gan.GAN, "train_step", real_step)
        assert checkpoint.load(parts / "checkpoint.npz")["step"] == 5
        assert run_train("--resume", parts) == 0
    a, rng_a, step_a = _final_state(whole)
    b, rng_b, step_b = _final_state(parts)
    assert step_a == step_b == 12 and rng_a == rng_b
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert _numbers(whole) == _numbers(parts)


def test_ctrl_c_finishes_the_step_saves_and_resumes(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    real_step = _stop_at(monkeypatch, 7)
    with pytest.raises(SystemExit) as stop:
        run_train("--dataset", "ring8", "--steps", 50, "--sample-every", 100, "--out", out)
    assert stop.value.code == 130
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 7
    assert len(read_metrics(out / "metrics.csv")) == 7
    monkeypatch.setattr(gan.GAN, "train_step", real_step)
    assert run_train("--resume", out) == 0
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 50
    assert [int(r["step"]) for r in read_metrics(out / "metrics.csv")] == list(range(1, 51))


def test_a_nan_loss_stops_with_one_sentence_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_d_step = gan.GAN.d_step
    calls = {"n": 0}

    def poisoned(self, real, y=None):
        calls["n"] += 1
        if calls["n"] == 8:
            real = real * float("nan")
        return real_d_step(self, real, y)

    monkeypatch.setattr(gan.GAN, "d_step", poisoned)
    with pytest.raises(SystemExit) as stop:
        run_train("--dataset", "ring8", "--steps", 20, "--sample-every", 5, "--out", out)
    assert stop.value.code == 2
    message = stop.value.message
    assert message.startswith("minigan.train: stopped at step 8: D's loss became nan")
    assert "lower the learning rate" in message and "\n" not in message
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 5
    assert [int(r["step"]) for r in read_metrics(out / "metrics.csv")] == list(range(1, 6))


@pytest.mark.parametrize("args,expected", [
    (["--dataset", "kmnist"], "the kmnist train files"),
    (["--dataset", "ring8", "--model", "dcgan"], "--model dcgan needs 28 x 28 images"),
    (["--dataset", "ring8", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["--dataset", "ring8", "--lr", "-1"], "--lr must be positive"),
    (["--dataset", "ring8", "--ema", "1"], "--ema is the decay of g's running average, in [0, 1)"),
])
def test_bad_input_is_one_sentence_and_exit_code_2(tmp_path, capsys, args, expected):
    assert run_train(*args, "--out", tmp_path / "x", "--data-dir", tmp_path / "empty") == 2
    err = capsys.readouterr().err
    assert err.startswith("minigan.train: error: ") and expected in err.lower() and "Traceback" not in err


def test_cupy_without_cupy_says_what_to_install(tmp_path, capsys):
    from minigan import backend

    if backend.cupy_available():
        pytest.skip("CuPy and a GPU are present here")
    assert run_train("--dataset", "ring8", "--backend", "cupy", "--out", tmp_path / "x") == 2
    err = capsys.readouterr().err
    assert "pip install" in err and "cupy" in err.lower()


def test_an_existing_run_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_train("--dataset", "ring8", "--steps", 2, "--out", out) == 0
    before = (out / "checkpoint.npz").read_bytes()
    assert run_train("--dataset", "ring8", "--steps", 2, "--out", out) == 2
    assert f"--resume {out}" in capsys.readouterr().err
    assert (out / "checkpoint.npz").read_bytes() == before


def test_resume_of_a_folder_without_a_run(tmp_path, capsys):
    assert run_train("--resume", tmp_path) == 2
    assert "holds no run" in capsys.readouterr().err


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit):
        train.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--dataset", "--split", "--model", "--loss", "--backend", "--epochs", "--steps", "--batch-size",
                 "--lr", "--beta1", "--z-dim", "--d-steps", "--seed", "--out", "--data-dir", "--resume",
                 "--sample-every", "--quiet"):
        assert flag in text, flag


@pytest.mark.parametrize("flags", [["--loss", "wgan"], ["--loss", "wgan-gp"], ["--loss", "lsgan"], ["--loss", "hinge"],
                                   ["--loss", "minimax"], ["--pack", "2"], ["--unroll", "2"],
                                   ["--unroll", "2", "--unroll-second-order"], ["--ema", "0.99"]])
def test_every_variant_trains_on_the_cli(tmp_path, flags):
    out = tmp_path / "run"
    assert run_train("--dataset", "ring8", "--steps", 3, "--sample-every", 3, "--batch-size", 32, *flags,
                     "--out", out) == 0
    rows = read_metrics(out / "metrics.csv")
    assert len(rows) == 3 and all(np.isfinite(float(r["g_loss"])) for r in rows)
    assert (out / "field.png").exists()


@needs_mnist
def test_conditional_run_draws_one_row_per_class(tmp_path):
    out = tmp_path / "cgan"
    assert run_train("--dataset", "mnist", "--split", "test", "--data-dir", MNIST, "--conditional", "--model", "mlp",
                     "--steps", 2, "--sample-every", 2, "--batch-size", 16, "--out", out) == 0
    grid = matplotlib.image.imread(out / "samples.png")
    assert grid.shape[0] > 500  # 10 labelled rows of 10
    x, y = run_mod.draw(out, 20, label=None)
    assert x.shape == (20, 1, 28, 28) and list(y) == [i // 2 for i in range(20)]
    x3, y3 = run_mod.draw(out, 5, label=3)
    assert list(y3) == [3] * 5


@needs_mnist
def test_test_split_run_never_sees_the_evaluation_reference(tmp_path):
    """--split test trains on the classifier's 8,000; its 2,000 reference images stay unseen."""
    from minigan.gan.run import Run
    from minigan.measure.classifier import load_split

    args = train.parse_args(["--dataset", "mnist", "--split", "test", "--model", "mlp", "--steps", "1",
                             "--data-dir", str(MNIST), "--out", str(tmp_path / "r")])
    run = Run(config.resolve(train.settings(args)))
    split = load_split("mnist", MNIST, "test-8000/2000")
    assert run.n_data == 8000 == len(split.x_train)
    np.testing.assert_array_equal(run.data, split.x_train)
    np.testing.assert_array_equal(run.labels, split.y_train)
    seen = {row.tobytes() for row in run.data.reshape(len(run.data), -1)}
    held_out = [row.tobytes() for row in split.x_ref.reshape(len(split.x_ref), -1)]
    assert not any(h in seen for h in held_out)


def test_standardize_scales_the_toy_networks_and_is_kept_for_sampling(tmp_path):
    out = tmp_path / "grid"
    assert run_train("--dataset", "grid25", "--standardize", "--steps", 3, "--batch-size", 16, "--width", 8,
                     "--out", out) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["standardize"] is True
    from minigan.gan.run import Run

    run = Run.open(out)
    assert run.gan.G.body[-1].factor == pytest.approx(2.8289, abs=1e-4)  # grid25's spread
    assert run.gan.D.body[1].factor == pytest.approx(1 / 2.8289, abs=1e-5)
    assert sample.main(["--run", str(out), "--n", "10", "--npy", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (10, 2)
    assert run_train("--dataset", "mnist", "--standardize", "--out", tmp_path / "m") == 2  # one sentence, no run
    assert not (tmp_path / "m").exists()


def test_an_ema_run_samples_its_average_unless_told_otherwise(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_train("--dataset", "ring8", "--steps", 20, "--batch-size", 32, "--ema", "0.9", "--out", out) == 0
    state = checkpoint.load(out / "checkpoint.npz")["gan"]
    assert state["ema_updates"] == 20 and state["G_ema"].keys() == state["G"].keys()
    averaged, _ = run_mod.draw(out, 50)
    own, _ = run_mod.draw(out, 50, ema=False)
    assert averaged.shape == own.shape == (50, 2) and not np.allclose(averaged, own)
    plain = tmp_path / "plain"
    assert run_train("--dataset", "ring8", "--steps", 2, "--out", plain) == 0
    assert sample.main(["--run", str(plain), "--n", "4", "--no-ema", "--npy", str(tmp_path / "x.npy")]) == 2
    assert "(it was trained without --ema): leave out --no-ema." in capsys.readouterr().err
    from minigan import evaluate

    for flags, kept in (([], True), (["--no-ema"], False)):
        assert evaluate.main(["--run", str(out), "--out", str(tmp_path / "m.json"), *flags]) == 0
        assert json.loads((tmp_path / "m.json").read_text())["ema"] is kept
    assert evaluate.main(["--run", str(plain), "--no-ema"]) == 2
    assert "leave out --no-ema" in capsys.readouterr().err
