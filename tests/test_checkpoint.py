"""Checkpoints: exact round trips (arrays, JSON values, 128-bit RNG state, models, Adam), a file that
loads without pickle, atomic writes, and one clear CheckpointError for every unreadable file."""

import json
import math
import os

import numpy as np
import pytest

import minigan
from minigan import nn, optim
from minigan.gan import checkpoint
from minigan.gan.checkpoint import CheckpointError


def _assert_same_tree(got, expected):
    """Equal values *and* types: arrays by dtype, shape and value; containers element by element."""
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected)
        for k in expected:
            _assert_same_tree(got[k], expected[k])
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_same_tree(g, e)
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert type(got) is type(expected) and got == expected


# --------------------------------------------------------------------------- round trips


def test_nested_state_round_trips_exactly(tmp_path, rng):
    arrays = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "f16": np.array([1.5, -2.25], dtype=np.float16),
        "i64": np.array([-(2**62), 0, 2**62], dtype=np.int64),
        "u8": np.arange(250, 256, dtype=np.uint8).reshape(2, 3),
        "bool": np.array([True, False, True]),
        "scalar": np.array(3.25, dtype=np.float32),  # 0-d stays an array
        "empty": np.zeros((0, 2), dtype=np.float32),
    }
    state = {
        "arrays": arrays,
        "numbers": {"int": -7, "float": 0.1, "inf": float("inf"), "nan": float("nan"), "big": 2**100, "neg": -(2**90)},
        "text": "héllo, D(G(z)) ✓",
        "flags": [True, False, None],
        "shape": (1, 28, 28),  # tuples become lists (JSON has no tuples)
        "mixed": [np.ones(2, dtype=np.int32), {"deep": [np.full((1,), 9.0), "x", 1.5]}, (2, (3, 4))],
        "numpy_scalars": [np.float32(2.5), np.int64(-3), np.bool_(True)],
        "nothing": None,
        5: "int key",
    }
    path = checkpoint.save(tmp_path / "run" / "ckpt.npz", state)  # missing folders are made
    assert path == tmp_path / "run" / "ckpt.npz"
    expected = dict(state)
    expected["shape"] = [1, 28, 28]
    expected["mixed"] = [state["mixed"][0], state["mixed"][1], [2, [3, 4]]]
    expected["numpy_scalars"] = [2.5, -3, True]  # NumPy scalars come back as Python numbers
    del expected[5]
    expected["5"] = "int key"  # JSON keys are strings
    _assert_same_tree(checkpoint.load(path), expected)


def test_flatten_and_unflatten_are_inverses():
    state = {"G": {"w": np.ones((2, 2))}, "steps": [1, np.zeros(3)]}
    arrays, skeleton = checkpoint.flatten(state)
    assert list(arrays) == ["G/w", "steps/1"]  # '/'-joined names
    assert skeleton == {"G": {"w": {"__array__": "G/w"}}, "steps": [1, {"__array__": "steps/1"}]}
    json.dumps(skeleton)  # the rest is plain JSON
    _assert_same_tree(checkpoint.unflatten(skeleton, arrays), state)


def test_pcg64_state_with_128_bit_ints_restores_the_same_draws(tmp_path):
    gen = np.random.default_rng(2024)
    gen.random(7)  # somewhere mid-stream
    gen.standard_normal()  # leaves a cached half-draw
    state = gen.bit_generator.state
    assert state["bit_generator"] == "PCG64" and max(state["state"].values()) > 2**64  # needs big ints
    checkpoint.save(tmp_path / "rng.npz", {"rng": state})
    expected = [gen.random(5), gen.integers(0, 2**63, 3), gen.standard_normal(4)]

    restored = np.random.default_rng()
    restored.bit_generator.state = checkpoint.load(tmp_path / "rng.npz")["rng"]
    assert restored.bit_generator.state == state
    got = [restored.random(5), restored.integers(0, 2**63, 3), restored.standard_normal(4)]
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


def _model():
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 1))


def _step(model, opt, x):
    opt.zero_grad()
    (model(x) ** 2).mean().backward()
    opt.step()


def test_model_and_adam_resume_with_identical_next_steps(tmp_path, rng):
    minigan.manual_seed(1)
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-2, betas=(0.5, 0.999), weight_decay=1e-3)
    xs = [minigan.tensor(rng.standard_normal((6, 3)), dtype="float32") for _ in range(5)]
    for x in xs[:3]:
        _step(model, opt, x)
    checkpoint.save(tmp_path / "ckpt.npz", {"model": model.state_dict(), "opt": opt.state_dict(), "step": 3})

    minigan.manual_seed(2)  # other starting weights, to be overwritten
    fresh = _model()
    fresh_opt = optim.Adam(fresh.parameters())
    assert not np.array_equal(fresh.state_dict()["0.weight"], model.state_dict()["0.weight"])
    loaded = checkpoint.load(tmp_path / "ckpt.npz")
    assert loaded["step"] == 3
    fresh.load_state_dict(loaded["model"])
    fresh_opt.load_state_dict(loaded["opt"])

    _assert_same_tree(dict(fresh.state_dict()), dict(model.state_dict()))  # weights and BN running statistics
    assert fresh_opt.hyperparameters() == opt.hyperparameters() == {
        "lr": 1e-2, "betas": (0.5, 0.999), "eps": 1e-8, "weight_decay": 1e-3}
    mine, theirs = opt.state_dict(), fresh_opt.state_dict()
    assert [s["step"] for s in theirs["state"]] == [3] * 6
    for a, b in zip(mine["state"], theirs["state"]):
        assert a.keys() == b.keys()
        for k in ("exp_avg", "exp_avg_sq"):
            assert b[k].dtype == np.float32
            np.testing.assert_array_equal(a[k], b[k])

    for x in xs[3:]:  # the resumed run continues exactly as the original one
        _step(model, opt, x)
        _step(fresh, fresh_opt, x)
        _assert_same_tree(dict(fresh.state_dict()), dict(model.state_dict()))
    assert [s["step"] for s in fresh_opt.state_dict()["state"]] == [5] * 6


def test_file_loads_without_pickle_under_slash_joined_names(tmp_path):
    model = _model()
    checkpoint.save(tmp_path / "ckpt.npz", {"G": model.state_dict(), "note": "hi"})
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as f:
        assert sorted(f.files) == sorted(["__meta__"] + [f"G/{k}" for k in model.state_dict()])
        np.testing.assert_array_equal(f["G/0.weight"], model.state_dict()["0.weight"])
        meta = json.loads(str(f["__meta__"]))
    assert meta["format"] == checkpoint.FORMAT == "minigan-checkpoint-1"
    assert meta["state"]["note"] == "hi" and meta["state"]["G"]["0.bias"] == {"__array__": "G/0.bias"}


# --------------------------------------------------------------------------- atomic writes


def test_save_leaves_no_temporary_file_and_replaces_the_old_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, {"x": np.zeros(2), "step": 1})
    checkpoint.save(path, {"x": np.ones(3), "step": 2})
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    _assert_same_tree(checkpoint.load(path), {"x": np.ones(3), "step": 2})


@pytest.mark.parametrize("error", [OSError("No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_write_that_fails_midway_keeps_the_previous_checkpoint(tmp_path, monkeypatch, error):
    path = tmp_path / "ckpt.npz"
    checkpoint.save(path, {"x": np.arange(4.0), "step": 1})
    before = path.read_bytes()

    def half_written_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04" + b"\0" * 100)  # the start of a zip, then the disk fills up
        raise error

    monkeypatch.setattr(np, "savez", half_written_savez)
    with pytest.raises(type(error)):
        checkpoint.save(path, {"x": np.arange(4.0) + 1, "step": 2})
    monkeypatch.undo()

    assert path.read_bytes() == before
    _assert_same_tree(checkpoint.load(path), {"x": np.arange(4.0), "step": 1})
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # nor is the half-written file left beside it


@pytest.mark.parametrize(
    "state",
    [{"a/b": np.ones(1), "a": {"b": np.zeros(1)}}, {"allow_pickle": np.ones(1)}, {"file": np.ones(1)},
     {"__meta__": np.ones(1)}],
    ids=["same-path", "allow_pickle", "file", "__meta__"],
)
def test_array_names_that_would_collide_are_refused_before_writing(tmp_path, state):
    # np.savez(file, allow_pickle=..., **arrays) would silently take or refuse these names.
    with pytest.raises(ValueError, match="rename the key") as info:
        checkpoint.save(tmp_path / "ckpt.npz", state)
    assert "\n" not in str(info.value)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- unreadable files


def _assert_one_line_naming(info, path):
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert isinstance(info.value, ValueError)  # CheckpointError is a ValueError


def test_missing_file_raises_checkpoint_error(tmp_path):
    path = tmp_path / "nope" / "ckpt.npz"
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(path)
    _assert_one_line_naming(info, path)
    assert str(info.value) == f"No checkpoint at {path}: give the run folder of a run that saved one."
    with pytest.raises(CheckpointError, match="No checkpoint"):
        checkpoint.load(tmp_path)  # a folder is not a checkpoint file either


@pytest.mark.parametrize("keep", [0, 10, 0.5, -30, -1], ids=["empty", "10-bytes", "half", "no-directory", "last-byte"])
def test_truncated_file_raises_checkpoint_error(tmp_path, keep):
    good = checkpoint.save(tmp_path / "good.npz", {"G": _model().state_dict(), "step": 4}).read_bytes()
    n = int(len(good) * keep) if isinstance(keep, float) else keep % len(good) if keep < 0 else keep
    path = tmp_path / "ckpt.npz"
    path.write_bytes(good[:n])
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(path)
    _assert_one_line_naming(info, path)
    assert "is not a readable minigan checkpoint" in str(info.value)


@pytest.mark.parametrize("prefix", [b"", b"PK\x03\x04", b"\x93NUMPY"], ids=["random", "zip-magic", "npy-magic"])
def test_random_bytes_raise_checkpoint_error(tmp_path, rng, prefix):
    """Random bytes read as a pickle to NumPy, whose error suggests allow_pickle=: never the advice for a checkpoint."""
    path = tmp_path / "ckpt.npz"
    path.write_bytes(prefix + rng.bytes(2000))
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(path)
    _assert_one_line_naming(info, path)
    assert str(info.value) == (f"{path} is not a readable minigan checkpoint (it is damaged, cut short or another "
                               "kind of file): delete it to start afresh, or resume from another run.")


def test_npz_without_the_format_marker_raises_checkpoint_error(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, weights=np.ones(3))  # an npz, but not ours: no __meta__
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(plain)
    _assert_one_line_naming(info, plain)

    for i, meta in enumerate(['{"state": {}}', '{"format": "other-1", "state": {}}', "[1, 2]", "3.5"]):
        path = tmp_path / f"meta{i}.npz"
        np.savez(path, __meta__=np.array(meta))
        with pytest.raises(CheckpointError) as info:
            checkpoint.load(path)
        _assert_one_line_naming(info, path)
        assert "is not a minigan checkpoint" in str(info.value) and "minigan-checkpoint-1" in str(info.value)

    npy = tmp_path / "array.npz"  # a lone .npy array under a checkpoint's name
    with open(npy, "wb") as f:
        np.save(f, np.ones(3))
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(npy)
    _assert_one_line_naming(info, npy)


def test_an_unreadable_file_says_so_rather_than_damaged(tmp_path, monkeypatch):
    path = checkpoint.save(tmp_path / "ckpt.npz", {"step": 1})

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(np, "load", denied)
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(path)
    assert str(info.value) == f"{path} cannot be read (Permission denied): give this user read access to it."
