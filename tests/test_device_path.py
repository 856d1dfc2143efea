"""The device path on every CI run, without a GPU: the strict CuPy stand-in (``strict_cupy.py``)
plays CuPy for the trainer, sample, evaluate, checkpoints across backends, the plots and every
lesson's quick mode. It computes with NumPy, so the same seed must give the same numbers exactly;
it counts transfers, so the budget of device->host reads per training step is asserted."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import strict_cupy
from test_lessons import EXPECTED, MNIST, NEEDS_MNIST, PNG_MAGIC, assert_claims_hold

import minigan
from minigan import backend, evaluate, sample, train
from minigan.data import datasets
from minigan.gan import checkpoint, config, trainer
from minigan.gan.run import Run

HERE = Path(__file__).resolve().parent
LESSONS = HERE.parent / "lessons"
RING = ["--dataset", "ring8", "--batch-size", 32, "--z-dim", 4, "--width", 16, "--sample-every", 4]
NUMBERS = ("d_loss", "g_loss", "d_real", "d_fake")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "MIRRORS", {k: ["http://127.0.0.1:9/"] for k in datasets.MIRRORS})


def run_train(*args) -> int:
    return train.main(["--quiet", *map(str, args)])


def numbers(folder: Path) -> list[tuple[str, ...]]:
    """The logged numbers of every step, as written (6 significant digits), without the times."""
    with open(folder / "metrics.csv", newline="") as f:
        return [tuple(r[k] for k in ("step", *NUMBERS)) for r in csv.DictReader(f)]


def on_standin(fn, *args):
    """``fn(*args)`` with the stand-in playing CuPy; the counters are zeroed first."""
    with backend.device_module(strict_cupy):
        strict_cupy.record.reset()
        try:
            return fn(*args)
        finally:
            minigan.use("numpy")


# --------------------------------------------------------------------------- the stand-in keeps CuPy's rules


def test_the_standin_refuses_what_cupy_refuses(standin):
    a = standin.asarray(np.arange(3.0))
    assert not isinstance(a, np.ndarray) and standin.record.to_device == 1
    for implicit in (np.asarray, np.array, lambda v: v.__array__()):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
            implicit(a)
    for mixed in (lambda: a + np.ones(3), lambda: np.ones(3) * a, lambda: standin.maximum(a, np.ones(3))):
        with pytest.raises(TypeError, match="Unsupported type"):
            mixed()
    with pytest.raises(TypeError, match="no implementation found"):
        np.interp(a, a, a)  # a NumPy function CuPy does not implement
    assert not hasattr(standin, "interp") and not hasattr(a, "tobytes")
    with pytest.raises(TypeError, match="size-1"):
        float(a)
    s = a.sum()
    assert type(s) is standin.ndarray and s.shape == ()  # reductions stay on the device, as in CuPy
    assert standin.record.to_host == 0
    assert float(s) == 3.0 and a.get().tolist() == [0.0, 1.0, 2.0] and standin.asnumpy(a)[2] == 2.0
    assert standin.record.to_host == 3
    np.testing.assert_array_equal(np.exp(a).get(), np.exp(np.arange(3.0)))  # a NumPy ufunc runs "on the device"


def test_minigan_on_the_standin_keeps_arrays_on_the_device(standin):
    minigan.use("cupy")
    x = minigan.randn(4, 3, requires_grad=True)
    assert type(x.data) is standin.ndarray
    y = (x * 2).tanh().sum()
    y.backward()
    assert type(x.grad.data) is standin.ndarray and isinstance(x.numpy(), np.ndarray)
    with pytest.raises(minigan.BackendError, match="NumPy \\(CPU\\) array and a CuPy \\(GPU\\) array"):
        minigan.Tensor(np.ones(3)) + minigan.Tensor(standin.ones(3))


# --------------------------------------------------------------------------- the trainer, same numbers


@pytest.mark.parametrize("loss", sorted(trainer.LOSSES))
def test_every_loss_trains_on_the_standin_with_numpys_numbers(loss, tmp_path):
    args = [*RING, "--loss", loss, "--steps", 4]
    assert run_train(*args, "--backend", "numpy", "--out", tmp_path / "cpu") == 0
    assert on_standin(run_train, *args, "--backend", "cupy", "--out", tmp_path / "dev") == 0
    assert json.loads((tmp_path / "dev" / "config.json").read_text())["backend"] == "cupy"
    assert numbers(tmp_path / "dev") == numbers(tmp_path / "cpu")


@pytest.mark.parametrize("extra", [["--model", "dcgan", "--width", 8], ["--model", "mlp", "--conditional"],
                                   ["--model", "dcgan", "--width", 8, "--conditional"]],
                         ids=["dcgan", "conditional-mlp", "conditional-dcgan"])
def test_images_train_on_the_standin_with_numpys_numbers(extra, tmp_path):
    if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the MNIST test files are not in {MNIST}")
    args = ["--dataset", "mnist", "--split", "test", "--data-dir", MNIST, *extra, "--batch-size", 16,
            "--steps", 3, "--sample-every", 3]
    assert run_train(*args, "--backend", "numpy", "--out", tmp_path / "cpu") == 0
    assert on_standin(run_train, *args, "--backend", "cupy", "--out", tmp_path / "dev") == 0
    assert numbers(tmp_path / "dev") == numbers(tmp_path / "cpu")
    for name in ("samples.png", "losses.png"):
        assert (tmp_path / "dev" / name).read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("given,reads,copies", [
    # one D step: its batch and z; the G step's z
    ({"dataset": "ring8", "loss": "nonsaturating"}, 2, 3),
    # 5 critic steps: 5 batches, 6 z, and the 5 penalty's interpolation weights
    ({"dataset": "ring8", "loss": "wgan-gp"}, 6, 16),
    # the batch and its labels, 2 z, and the fakes' labels for D and for G
    ({"dataset": "mnist", "model": "dcgan", "width": 8, "conditional": True}, 2, 6),
    # unrolled, first order: 3 look-ahead D steps on the same batch, each reading its loss and drawing its z
    ({"dataset": "ring8", "unroll": 3}, 5, 6),
    # unrolled, second order: the look-ahead is differentiated through, not read
    ({"dataset": "ring8", "unroll": 3, "unroll_second_order": True}, 2, 6),
], ids=["mlp", "wgan-gp (5 critic steps)", "conditional-dcgan", "unrolled-3", "unrolled-3-second-order"])
def test_a_training_step_reads_the_device_once_per_d_step_and_once_per_g_step(given, reads, copies, tmp_path):
    """The losses and mean D outputs a step logs come back in one read per D step and one per G step:
    2 a step with one D step (the default), each a wait for the GPU's queue. Host->device copies are
    only the data and the random draws (made on the host, for the same numbers on every backend)."""
    if given["dataset"] == "mnist":
        if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
            pytest.skip(f"the MNIST test files are not in {MNIST}")
        given = {**given, "split": "test", "data_dir": str(MNIST)}
    counted = []

    def count(step, _numbers):
        c = strict_cupy.record.counts()
        counted.append((c["to_host"], c["to_device"], c["syncs"]))
        strict_cupy.record.reset()

    def go():
        cfg = config.resolve({**given, "backend": "cupy", "batch_size": 16, "steps": 6, "sample_every": 100,
                              "out": str(tmp_path / "run")})
        r = Run.start(cfg)
        strict_cupy.record.reset()
        r.train(on_step=count)
        return r

    r = on_standin(go)
    assert reads == r.cfg["d_steps"] + 1 + (0 if r.cfg.get("unroll_second_order") else r.cfg["unroll"])
    assert counted[1:] == [(reads, copies, 0)] * 5, counted  # (the first step also carries the run's setup)


# --------------------------------------------------------------------------- sample, evaluate, checkpoints


def test_sample_and_evaluate_a_run_trained_on_the_standin(tmp_path, capsys):
    out = tmp_path / "dev"
    assert on_standin(run_train, *RING, "--steps", 4, "--backend", "cupy", "--out", out) == 0
    assert on_standin(sample.main, ["--run", str(out), "--n", "50", "--npy", str(tmp_path / "dev.npy")]) == 0
    assert sample.main(["--run", str(out), "--n", "50", "--backend", "numpy", "--npy", str(tmp_path / "cpu.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "dev.npy"), np.load(tmp_path / "cpu.npy"))
    assert on_standin(sample.main, ["--run", str(out), "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG_MAGIC
    capsys.readouterr()
    assert on_standin(evaluate.main, ["--quiet", "--run", str(out), "--n", "300"]) == 0
    dev = json.loads((out / "metrics.json").read_text())
    assert evaluate.main(["--quiet", "--run", str(out), "--n", "300"]) == 2  # its own backend is not here
    assert "choose the --backend numpy" in capsys.readouterr().err
    assert evaluate.main(["--quiet", "--run", str(out), "--n", "300", "--backend", "numpy"]) == 0
    cpu = json.loads((out / "metrics.json").read_text())
    assert dev["samples"] == cpu["samples"] and 0 <= dev["samples"]["modes_covered"] <= 8


def test_evaluate_images_of_a_dcgan_trained_on_the_standin(tmp_path, capsys, monkeypatch):
    if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the MNIST test files are not in {MNIST}")
    from minigan.measure import classifier

    monkeypatch.setitem(classifier.RECIPES, "test-8000/2000", classifier.Recipe(1, 128, 1))  # a quick classifier
    out = tmp_path / "dev"
    args = ["--dataset", "mnist", "--split", "test", "--data-dir", MNIST, "--model", "dcgan", "--width", 8,
            "--batch-size", 16, "--steps", 2]
    assert on_standin(run_train, *args, "--backend", "cupy", "--out", out) == 0
    capsys.readouterr()
    ev = ["--quiet", "--run", str(out), "--n", "200", "--data-dir", str(MNIST)]  # split test: test-8000/2000
    assert on_standin(evaluate.main, ev) == 0
    dev = json.loads((out / "metrics.json").read_text())
    assert evaluate.main([*ev, "--backend", "numpy"]) == 0
    cpu = json.loads((out / "metrics.json").read_text())
    assert dev["kind"] == "images" and dev["samples"] == cpu["samples"]


@pytest.mark.parametrize("first,then", [("cupy", "numpy"), ("numpy", "cupy")],
                         ids=["device-then-numpy", "numpy-then-device"])
def test_a_run_resumes_across_backends_and_ends_where_one_backend_would(first, then, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert run_train(*RING, "--steps", 8, "--lr-decay", "none", "--out", whole) == 0

    def part(name, *args):
        return on_standin(run_train, *args) if name == "cupy" else run_train(*args)

    assert part(first, *RING, "--steps", 4, "--lr-decay", "none", "--backend", first, "--out", parts) == 0
    assert part(then, "--resume", parts, "--steps", 8, "--backend", then) == 0
    assert json.loads((parts / "config.json").read_text())["backend"] == then
    a = checkpoint.flatten(checkpoint.load(whole / "checkpoint.npz")["gan"])[0]
    b = checkpoint.flatten(checkpoint.load(parts / "checkpoint.npz")["gan"])[0]
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert numbers(parts) == numbers(whole)


# --------------------------------------------------------------------------- every lesson, quick


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_lesson_runs_quick_on_the_standin(script, tmp_path):
    out = LESSONS / "out" / script[:2]
    for name in EXPECTED[script]:
        (out / name).unlink(missing_ok=True)
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", STANDIN_RECORD=str(tmp_path / "record.json"),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    if script in NEEDS_MNIST:
        if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
            pytest.skip(f"the MNIST test files are not in {MNIST}")
        env["MINIGAN_DATA"] = str(MNIST)
    result = subprocess.run([sys.executable, str(HERE / "run_on_standin.py"), str(LESSONS / script), "--quick"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert_claims_hold(script, result.stdout)  # what the lesson checks holds on the device path too
    for name in EXPECTED[script]:
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    assert "strict_cupy:" in result.stderr
    record = json.loads((tmp_path / "record.json").read_text())
    strict_cupy.record.merge(record["used"], record["keywords"])  # for test_cupy_namespace.py
