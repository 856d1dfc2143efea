"""Every numeric flag of ``python -m minigan.train``, ``sample`` and ``evaluate`` says what it accepts.

A bad value is refused before any work: one sentence naming the flag, the value given and
the accepted range, exit code 2, no traceback, nothing written. Each case below was taken
silently, crashed, or was refused without naming the flag, the value or the range before
issue 14. The good values at the edges of the ranges still train, sample and evaluate.
"""

import numpy as np
import pytest

from minigan import evaluate, sample, train
from minigan.cli import with_flags
from minigan.data import datasets
from minigan.gan import config

DOORS = {"train": train.main, "sample": sample.main, "evaluate": evaluate.main}
TRAIN = ["--quiet", "--dataset", "ring8", "--batch-size", "16"]  # + "--steps 2" unless the case sets --epochs


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test here may reach the network or the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "MIRRORS", {k: ["http://127.0.0.1:9/"] for k in datasets.MIRRORS})


@pytest.fixture(scope="module")
def ring8_run(tmp_path_factory):
    """A finished 2-step ring8 run for sample and evaluate to read (and never write into)."""
    out = tmp_path_factory.mktemp("flags") / "ring8"
    assert train.main([*TRAIN, "--steps", "2", "--out", str(out)]) == 0
    return out


def call(door, argv, capsys):
    """(exit code, stderr) of one door: it returns 2, or argparse raises SystemExit(2)."""
    try:
        code = DOORS[door](argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def argv_for(door, flags, run, tmp_path):
    flags = [str(run) if a == "RUN" else str(tmp_path / "x.npy") if a == "SAMPLES" else a for a in flags]
    if door == "train":
        return [*TRAIN, *([] if "--epochs" in flags else ["--steps", "2"]), *flags, "--out", str(tmp_path / "run")]
    if door == "sample":
        return ["--run", str(run), *flags]
    return ["--quiet", *flags]


def files(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


BAD = [
    # door, flags, words the sentence must hold: the flag, the value and the range
    ("train", ["--steps", "-5"], ["--steps", "-5", "at least 1"]),
    ("train", ["--steps", "0"], ["--steps", "0", "at least 1"]),
    ("train", ["--steps", "1.5"], ["--steps", "'1.5'", "at least 1"]),
    ("train", ["--epochs", "0"], ["--epochs", "0.0", "positive"]),
    ("train", ["--epochs", "-1"], ["--epochs", "-1.0", "positive"]),
    ("train", ["--epochs", "nan"], ["--epochs", "'nan'", "positive and finite"]),
    ("train", ["--epochs", "inf"], ["--epochs", "'inf'", "positive and finite"]),
    ("train", ["--steps", "2", "--epochs", "1"], ["--steps", "--epochs", "give one of them"]),
    ("train", ["--batch-size", "1e3"], ["--batch-size", "'1e3'", "at least 1"]),
    ("train", ["--lr", "nan"], ["--lr", "'nan'", "positive and finite"]),
    ("train", ["--lr", "inf"], ["--lr", "'inf'", "positive and finite"]),
    ("train", ["--d-lr", "0"], ["--d-lr", "0.0", "positive and finite"]),
    ("train", ["--d-lr", "-0.5"], ["--d-lr", "-0.5", "positive and finite"]),
    ("train", ["--r1", "-1"], ["--r1", "-1.0", "at least 0"]),
    ("train", ["--beta1", "1"], ["--beta1", "1.0", "in [0, 1)"]),
    ("train", ["--beta2", "-0.5"], ["--beta2", "-0.5", "in [0, 1)"]),
    ("train", ["--beta2", "nan"], ["--beta2", "'nan'", "in [0, 1)"]),
    ("train", ["--z-dim", "8.5"], ["--z-dim", "'8.5'", "at least 1"]),
    ("train", ["--width", "0"], ["--width", "0", "at least 1"]),
    ("train", ["--width", "-4"], ["--width", "-4", "at least 1"]),
    ("train", ["--d-steps", "2.0"], ["--d-steps", "'2.0'", "at least 1"]),
    ("train", ["--sample-every", "often"], ["--sample-every", "'often'", "at least 1"]),
    ("train", ["--pack", "0"], ["--pack", "0", "at least 1"]),
    ("train", ["--unroll", "-1"], ["--unroll", "-1", "at least 0"]),
    ("train", ["--clip", "-1"], ["--clip", "-1.0", "positive"]),
    ("train", ["--clip", "0"], ["--clip", "0.0", "positive"]),
    ("train", ["--clip", "nan"], ["--clip", "'nan'", "positive and finite"]),
    ("train", ["--gp-weight", "-5"], ["--gp-weight", "-5.0", "at least 0"]),
    ("train", ["--gp-weight", "inf"], ["--gp-weight", "'inf'", "at least 0 and finite"]),
    ("train", ["--seed", "-1"], ["--seed", "-1", "at least 0"]),
    ("train", ["--seed", "1.5"], ["--seed", "'1.5'", "at least 0"]),
    ("sample", ["--seed", "-1"], ["--seed", "-1", "at least 0"]),
    ("sample", ["--n", "1.5"], ["--n", "'1.5'", "at least 1"]),
    ("sample", ["--keep", "0"], ["--keep", "0.0", "(0, 1]"]),
    ("sample", ["--keep", "1.5"], ["--keep", "1.5", "(0, 1]"]),
    ("sample", ["--keep", "nan"], ["--keep", "'nan'", "(0, 1]"]),
    ("sample", ["--label", "10"], ["--label", "10", "0 to 9"]),
    ("sample", ["--label", "-1"], ["--label", "-1", "0 to 9"]),
    ("evaluate", ["--run", "RUN", "--seed", "-1"], ["--seed", "-1", "at least 0"]),
    ("evaluate", ["--run", "RUN", "--n", "1.5"], ["--n", "'1.5'", "at least 2"]),
    ("evaluate", ["--run", "RUN", "--keep", "0"], ["--keep", "0.0", "(0, 1]"]),
    ("evaluate", ["--run", "RUN", "--keep", "2"], ["--keep", "2.0", "(0, 1]"]),
    ("evaluate", ["--run", "RUN", "--keep", "nan"], ["--keep", "'nan'", "(0, 1]"]),
    ("evaluate", ["--samples", "SAMPLES", "--dataset", "ring8", "--n", "100"], ["--n", "--run"]),
]


@pytest.mark.parametrize("door,flags,words", BAD, ids=[f"{d}{' '.join(f)}" for d, f, _ in BAD])
def test_a_bad_value_is_one_sentence_exit_2_and_writes_nothing(tmp_path, capsys, ring8_run, door, flags, words):
    np.save(tmp_path / "x.npy", np.zeros((50, 2), np.float32))
    before = files(ring8_run)
    code, err = call(door, argv_for(door, flags, ring8_run, tmp_path), capsys)
    assert code == 2, err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]  # argparse prints its usage line first
    assert line.startswith((f"python -m minigan.{door}: error: ", f"minigan.{door}: error: ")), err
    for word in words:
        assert word in line, (word, line)
    assert "allow_pickle" not in line
    assert not (tmp_path / "run").exists()
    assert files(ring8_run) == before


GOOD = [
    ("train", ["--steps", "2", "--sample-every", "2", "--pack", "2", "--unroll", "0", "--gp-weight", "0",
               "--clip", "0.5", "--beta1", "0", "--beta2", "0", "--ema", "0", "--seed", "4294967296", "--width", "1",
               "--z-dim", "1", "--d-steps", "1", "--lr", "1e-3"]),
    ("train", ["--epochs", "1e-6", "--unroll", "1", "--ema", "0.999", "--seed", "0"]),  # at least one step
    ("sample", ["--n", "1", "--seed", "0", "--keep", "1", "--npy", "OUT.npy"]),
    ("sample", ["--n", "5", "--seed", "123456789012", "--keep", "0.5", "--npy", "OUT.npy"]),
    ("evaluate", ["--run", "RUN", "--n", "2", "--seed", "0", "--keep", "1", "--out", "OUT.json"]),
    ("evaluate", ["--run", "RUN", "--n", "40", "--keep", "0.9", "--out", "OUT.json"]),
]


@pytest.mark.parametrize("door,flags", GOOD, ids=[f"{d}{' '.join(f)}" for d, f in GOOD])
def test_values_at_the_edges_of_the_ranges_still_work(tmp_path, capsys, ring8_run, door, flags):
    flags = [str(tmp_path / a) if a.startswith("OUT") else a for a in flags]
    code, err = call(door, argv_for(door, flags, ring8_run, tmp_path), capsys)
    assert code == 0, err
    made = {"train": "run/checkpoint.npz", "sample": "OUT.npy", "evaluate": "OUT.json"}[door]
    assert (tmp_path / made).exists()


def test_validate_is_the_one_place_of_the_ranges():
    """validate() (also used for --resume) refuses what the flags refuse, and a config's nonsense values too."""
    cfg = config.resolve(train.settings(train.parse_args(["--dataset", "ring8"])))
    config.validate(cfg)
    for key, value, words in [("steps", 0, "--steps must be at least 1, got 0."),
                              ("lr", float("nan"), "--lr must be positive and finite, got nan."),
                              ("seed", -3, "--seed must be at least 0, got -3."),
                              ("steps", 2.5, "--steps must be a whole number, at least 1, got 2.5."),
                              ("d_steps", True, "--d-steps must be a whole number, at least 1, got True."),
                              ("lr", "fast", "--lr must be a number, positive and finite, got 'fast'."),
                              ("pack", 3, "--batch-size (512) must be a multiple of --pack (3).")]:
        with pytest.raises(ValueError) as info:
            config.validate({**cfg, key: value})
        assert "--" not in str(info.value)  # the library names the setting; the door shows its flag
        assert with_flags(str(info.value)) == words
    config.validate({**cfg, "width": None, "clip": None, "epochs": None})  # unset: the defaults apply


def test_a_damaged_checkpoint_is_one_sentence_without_numpy_advice(tmp_path, capsys, ring8_run):
    import shutil

    run = tmp_path / "damaged"
    shutil.copytree(ring8_run, run)
    (run / "checkpoint.npz").write_bytes(np.random.default_rng(0).bytes(2000))  # no zip or .npy magic: "a pickle"
    code, err = call("sample", ["--run", str(run), "--n", "4", "--npy", str(tmp_path / "x.npy")], capsys)
    assert code == 2 and "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line == (f"minigan.sample: error: {run / 'checkpoint.npz'} is not a readable minigan checkpoint (it is "
                    "damaged, cut short or another kind of file): delete it to start afresh, or resume from another "
                    "run.")
    assert "pickle" not in err
