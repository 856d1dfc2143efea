"""The trainer under mistakes and faults: resume by folder, extension, changes on resume, NaN and
inf, signals, damaged files, impossible folders, a full disk. Each case ends in a working next
command or one sentence, and nothing written before is lost."""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
import signal

import numpy as np
import pytest

from minigan import train
from minigan.data import datasets
from minigan.gan import checkpoint, run
from minigan.gan import trainer as gan

RING = ["--dataset", "ring8", "--batch-size", 32, "--z-dim", 4, "--width", 16, "--lr-decay", "none"]
LINEAR = [*RING[:-2], "--lr-decay", "linear"]


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "MIRRORS", {k: ["http://127.0.0.1:9/"] for k in datasets.MIRRORS})


def run_train(*args):
    return train.main(["--quiet", *map(str, args)])


def files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def steps(folder):
    with open(folder / "metrics.csv", newline="") as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


def config(folder):
    return json.loads((folder / "config.json").read_text())


def signal_during_step(monkeypatch, step, *signals):
    """Deliver ``signals`` to this process during the run's ``step``-th step; returns the real train_step."""
    real = gan.GAN.train_step
    calls = {"n": 0}

    def step_with_signals(self, batches):
        calls["n"] += 1
        if calls["n"] == step:
            for sig in signals:
                os.kill(os.getpid(), sig)
        return real(self, batches)

    monkeypatch.setattr(gan.GAN, "train_step", step_with_signals)
    return real


# --------------------------------------------------------------------------- resume means DIR


def test_a_copied_run_resumes_in_the_copy_and_never_touches_the_original(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_train(*RING, "--steps", 6, "--sample-every", 3, "--out", a) == 0
    shutil.copytree(a, b)
    before = files(a)
    assert run_train("--resume", b, "--steps", 9) == 0
    assert files(a) == before, "resuming the copy changed the original"
    assert checkpoint.load(b / "checkpoint.npz")["step"] == 9 and steps(b) == list(range(1, 10))
    assert config(b)["out"] == str(b)


def test_a_moved_run_resumes_from_another_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run_train(*RING, "--steps", 4, "--sample-every", 2) == 0  # the default, relative out
    default = tmp_path / "runs" / "ring8-mlp"
    moved = tmp_path / "elsewhere" / "mine"
    moved.parent.mkdir()
    shutil.move(str(default), moved)
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "other")
    assert train.main(["--resume", str(moved), "--steps", "6"]) == 0
    err = capsys.readouterr().err
    assert "it continues here, in" in err and str(moved) in err
    assert checkpoint.load(moved / "checkpoint.npz")["step"] == 6
    assert not (tmp_path / "other" / "runs").exists() and not default.exists()


# --------------------------------------------------------------------------- extension and changes


def test_extending_a_linear_schedule_replans_it_from_the_current_step_and_rate(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_train(*LINEAR, "--steps", 8, "--sample-every", 4, "--out", out) == 0
    # Finished: the rate decayed to 0, so extending needs a rate to decay from.
    assert run_train("--resume", out, "--steps", 16) == 2
    assert "decayed to 0 at step 8" in capsys.readouterr().err
    assert config(out)["steps"] == 8
    assert run_train("--resume", out, "--steps", 16, "--lr", 5e-4) == 0
    cfg = config(out)
    assert cfg["lr_schedule"] == [[0, 1e-3, 8], [8, 5e-4, 16]]
    assert cfg["resumed"] == [{"step": 8, "changed": {"steps": [8, 16], "lr": [1e-3, 5e-4]}}]
    r = run.Run.open(out)
    assert [r.lr_at(t) for t in (0, 4, 8, 12, 16)] == pytest.approx([1e-3, 5e-4, 5e-4, 2.5e-4, 0.0])


def test_d_lr_gives_d_its_own_rate_and_the_schedule_scales_both_alike(tmp_path):
    const, lin = tmp_path / "const", tmp_path / "lin"
    assert run_train(*RING, "--lr", 1e-3, "--d-lr", 1e-4, "--steps", 4, "--sample-every", 4, "--out", const) == 0
    assert config(const)["d_lr"] == 1e-4
    r = run.Run.open(const)
    assert (r.gan.opt_g.lr, r.gan.opt_d.lr) == (1e-3, 1e-4)
    assert run_train(*LINEAR, "--lr", 1e-3, "--d-lr", 4e-3, "--steps", 8, "--sample-every", 4, "--out", lin) == 0
    assert run_train("--resume", lin, "--steps", 16, "--lr", 5e-4) == 0
    r = run.Run.open(lin)
    for step, g_lr in ((2, 1e-3 * (1 - 2 / 8)), (12, 5e-4 * (1 - 4 / 8))):
        r.step = step
        r.set_learning_rate()
        assert r.gan.opt_g.lr == pytest.approx(g_lr)
        assert r.gan.opt_d.lr == pytest.approx(4 * g_lr)  # 4e-3 / 1e-3: the ratio the run started with


def test_an_interrupted_linear_run_extended_continues_at_its_current_rate(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    real = signal_during_step(monkeypatch, 4, signal.SIGINT)
    with pytest.raises(SystemExit):
        run_train(*LINEAR, "--steps", 8, "--sample-every", 100, "--out", out)
    monkeypatch.setattr(gan.GAN, "train_step", real)
    capsys.readouterr()
    assert run_train("--resume", out, "--steps", 16) == 0
    assert "from 0.0005 at step 4, decaying linearly to 0 at step 16" in capsys.readouterr().err
    r = run.Run.open(out)
    assert r.lr_at(3) == pytest.approx(1e-3 * (1 - 3 / 8))
    assert r.lr_at(4) == pytest.approx(5e-4)  # no jump at the resume
    assert r.lr_at(10) == pytest.approx(5e-4 * (1 - 6 / 12))


def test_a_constant_rate_run_extended_equals_the_longer_run(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert run_train(*RING, "--steps", 10, "--sample-every", 5, "--out", whole) == 0
    assert run_train(*RING, "--steps", 5, "--sample-every", 5, "--out", parts) == 0
    assert run_train("--resume", parts, "--steps", 10) == 0
    a = checkpoint.flatten(checkpoint.load(whole / "checkpoint.npz")["gan"])[0]
    b = checkpoint.flatten(checkpoint.load(parts / "checkpoint.npz")["gan"])[0]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_a_new_learning_rate_on_resume_is_applied_and_recorded(tmp_path):
    out = tmp_path / "run"
    assert run_train(*RING, "--steps", 4, "--sample-every", 2, "--out", out) == 0
    assert run_train("--resume", out, "--steps", 6, "--lr", 1e-4) == 0
    cfg = config(out)
    assert cfg["lr"] == 1e-4 and cfg["lr_schedule"][-1] == [4, 1e-4, 6]
    assert cfg["resumed"][0]["step"] == 4
    state = checkpoint.load(out / "checkpoint.npz")
    assert state["step"] == 6


@pytest.mark.parametrize("flag,value", [("--z-dim", 8), ("--model", "dcgan"), ("--loss", "hinge"),
                                        ("--width", 32), ("--pack", 2), ("--dataset", "grid25"),
                                        ("--batch-size", 64), ("--seed", 3), ("--out", "somewhere-else")])
def test_settings_that_define_the_run_are_refused_on_resume(tmp_path, capsys, flag, value):
    out = tmp_path / "run"
    assert run_train(*RING, "--steps", 2, "--out", out) == 0
    before = files(out)
    assert run_train("--resume", out, flag, value) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigan.train: error: " + flag) and "Traceback" not in err and err.count("\n") == 1
    assert files(out) == before


def test_steps_below_the_current_step_are_refused_without_rewriting_the_config(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_train(*RING, "--steps", 6, "--out", out) == 0
    before = files(out)
    assert run_train("--resume", out, "--steps", 3) == 2
    assert "already done 6 steps, more than the 3" in capsys.readouterr().err
    assert files(out) == before


# --------------------------------------------------------------------------- NaN and inf


def test_a_nan_before_any_checkpoint_says_none_was_written(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop:
        run_train(*RING, "--steps", 50, "--sample-every", 25, "--lr", 1e6, "--out", out)
    assert stop.value.code == 2
    message = stop.value.message
    assert "No checkpoint was written yet" in message and "--lr 100000" in message
    assert "The last good checkpoint" not in message and "\n" not in message
    assert not (out / "checkpoint.npz").exists()


def test_no_checkpoint_ever_holds_inf_and_resume_with_a_lower_rate_works(tmp_path, capfd):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop:
        run_train(*RING, "--steps", 50, "--sample-every", 1, "--lr", 1e6, "--out", out)
    assert stop.value.code == 2
    message = stop.value.message
    assert "RuntimeWarning" not in capfd.readouterr().err
    state = checkpoint.load(out / "checkpoint.npz")
    arrays = checkpoint.flatten(state["gan"])[0]
    assert all(np.isfinite(a).all() for a in arrays.values() if a.dtype.kind == "f")
    assert f"holds step {state['step']}" in message
    assert f"--resume {out} --lr" in message
    assert run_train("--resume", out, "--lr", 1e-3, "--steps", state["step"] + 5) == 0
    assert checkpoint.load(out / "checkpoint.npz")["step"] == state["step"] + 5


# --------------------------------------------------------------------------- signals


def test_a_second_ctrl_c_stops_at_once_without_a_traceback(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    real = signal_during_step(monkeypatch, 5, signal.SIGINT, signal.SIGINT)
    with pytest.raises(SystemExit) as stop:
        run_train(*RING, "--steps", 20, "--sample-every", 2, "--out", out)
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert "SIGINT again: stopped at once" in err and "holds step 4" in err and f"--resume {out}" in err
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 4
    monkeypatch.setattr(gan.GAN, "train_step", real)
    assert run_train("--resume", out) == 0


def test_sigterm_saves_and_exits_143(tmp_path, monkeypatch):
    out = tmp_path / "run"
    signal_during_step(monkeypatch, 3, signal.SIGTERM)
    with pytest.raises(SystemExit) as stop:
        run_train(*RING, "--steps", 20, "--sample-every", 100, "--out", out)
    assert stop.value.code == 143
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 3


# --------------------------------------------------------------------------- damaged files, folders, disks


@pytest.mark.parametrize("edit,words", [
    (lambda c: c.pop("z_dim"), "has no 'z_dim'"),
    (lambda c: c.update(z_dim="eight"), "'z_dim' is 'eight', which is not a number"),
    (lambda c: c.update(dataset="cifar"), "names no known dataset"),
    (lambda c: c.update(standardize="no"), "'standardize' is 'no', which is not a true/false"),
    (lambda c: c.clear() or c.update(a=1) or c, "names no known dataset"),
])
def test_a_hand_edited_config_is_recovered_from_the_checkpoint_or_one_sentence(tmp_path, capsys, edit, words):
    out = tmp_path / "run"
    assert run_train(*RING, "--steps", 2, "--out", out) == 0
    good = config(out)
    cfg = config(out)
    edit(cfg)
    (out / "config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert run_train("--resume", out, "--steps", 4) == 0  # the checkpoint keeps a copy of the config
    err = capsys.readouterr().err
    assert "was damaged" in err and words in err and "Traceback" not in err
    assert {k: v for k, v in config(out).items() if k not in ("steps", "resumed")} == \
        {k: v for k, v in good.items() if k != "steps"}
    (out / "config.json").write_text(json.dumps(cfg))
    (out / "checkpoint.npz").unlink()  # no copy left: one sentence
    assert run_train("--resume", out, "--steps", 6) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1


def test_a_cut_last_row_of_metrics_is_repaired_on_resume(tmp_path):
    out = tmp_path / "run"
    assert run_train(*RING, "--steps", 4, "--sample-every", 2, "--out", out) == 0
    with open(out / "metrics.csv", "a") as f:
        f.write("1")  # a killed run's row for step 1x, cut after its first character
    assert run_train("--resume", out, "--steps", 6) == 0
    assert steps(out) == list(range(1, 7))
    assert (out / "losses.png").stat().st_size > 1000


@pytest.mark.parametrize("where", ["a file", "under a file", "/proc", "/sys"])
def test_an_impossible_out_folder_is_one_sentence_before_any_work(tmp_path, capsys, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    out = {"a file": blocker, "under a file": blocker / "run", "/proc": "/proc/minigan-run",
           "/sys": "/sys/minigan-run"}[where]
    assert run_train(*RING, "--steps", 2, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigan.train: error: --out ") and "choose another --out" in err
    assert "Traceback" not in err and blocker.read_text() == "not a folder"


def test_a_full_disk_mid_run_keeps_the_last_checkpoint_and_says_how_to_resume(tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_save = checkpoint.save
    calls = {"n": 0}

    def disk_full_on_the_second(path, state):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save(path, state)

    monkeypatch.setattr(checkpoint, "save", disk_full_on_the_second)
    with pytest.raises(SystemExit) as stop:
        run_train(*RING, "--steps", 12, "--sample-every", 4, "--out", out)
    assert stop.value.code == 2
    message = stop.value.message
    assert "No space left on device" in message and "holds step 4, intact" in message
    assert f"--resume {out}" in message and "\n" not in message
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 4
    monkeypatch.setattr(checkpoint, "save", real_save)  # space freed
    assert run_train("--resume", out) == 0
    assert checkpoint.load(out / "checkpoint.npz")["step"] == 12 and steps(out) == list(range(1, 13))


# --------------------------------------------------------------------------- fault injection


def _cli(*args, cwd):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "minigan.train", "--quiet", *map(str, args)], cwd=cwd,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_kill_9_at_random_moments_then_resume_ends_bit_identical(tmp_path):
    """Three kill -9s at random moments (local child processes, at most ~20 s in all): every checkpoint
    stays readable, and resuming each time ends where an uninterrupted run ends, bit for bit."""
    import time

    common = [*RING, "--steps", 600, "--sample-every", 25]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert _cli(*common, "--out", whole, cwd=tmp_path).wait(timeout=120) == 0
    rng = np.random.default_rng(7)
    proc = _cli(*common, "--out", parts, cwd=tmp_path)
    for _ in range(3):
        time.sleep(float(rng.uniform(1.5, 3.0)))  # past the start-up, somewhere in the training
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
        if (parts / "checkpoint.npz").exists():
            checkpoint.load(parts / "checkpoint.npz")  # readable, whenever the kill came
            proc = _cli("--resume", parts, cwd=tmp_path)
        else:  # killed before the first checkpoint: start again
            shutil.rmtree(parts, ignore_errors=True)
            proc = _cli(*common, "--out", parts, cwd=tmp_path)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    a = checkpoint.flatten(checkpoint.load(whole / "checkpoint.npz")["gan"])[0]
    b = checkpoint.flatten(checkpoint.load(parts / "checkpoint.npz")["gan"])[0]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert steps(parts) == list(range(1, 601))


def test_each_file_of_a_run_folder_damaged_in_turn_gives_a_working_run_or_one_sentence(tmp_path, capsys):
    base = tmp_path / "base"
    assert run_train(*RING, "--steps", 4, "--sample-every", 2, "--out", base) == 0
    names = sorted(files(base))
    assert {"config.json", "metrics.csv", "checkpoint.npz", "field.png"} <= set(names)
    for name in names:
        for how in ("empty", "garbage"):
            run_dir = tmp_path / f"{name.replace('/', '_')}-{how}"
            shutil.copytree(base, run_dir)
            (run_dir / name).write_bytes(b"" if how == "empty" else b"\x00\xff garbage \x13" * 7)
            capsys.readouterr()
            code = run_train("--resume", run_dir, "--steps", 6)
            err = capsys.readouterr().err
            assert "Traceback" not in err, (name, how, err)
            if code == 0:  # repaired or not needed: the run went on
                assert checkpoint.load(run_dir / "checkpoint.npz")["step"] == 6, (name, how)
            else:
                assert code == 2 and err.startswith("minigan.train: error: ") and err.count("\n") == 1, (name, how)
                assert name in err or "config.json" in err or "checkpoint" in err, (name, how, err)
    assert files(base) and checkpoint.load(base / "checkpoint.npz")["step"] == 4  # the original is untouched
