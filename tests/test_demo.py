"""Composition: the whole library trains a classifier (the demo is the README's main job)."""

import numpy as np

from minigan import demo


def test_make_moons_is_balanced_and_seeded():
    x, y = demo.make_moons(200, seed=3)
    assert x.shape == (200, 2) and x.dtype == np.float32
    assert y.dtype == np.int64 and y.sum() == 100
    x2, _ = demo.make_moons(200, seed=3)
    np.testing.assert_array_equal(x, x2)


def test_mlp_separates_two_moons_to_95_percent():
    x, y = demo.make_moons(1000, seed=0)
    x_test, y_test = demo.make_moons(1000, seed=1)
    model, history = demo.train_classifier(x, y, steps=400, seed=0)
    assert np.mean(history[-25:]) < 0.5 * np.mean(history[:25])  # the loss went down
    assert demo.accuracy(model, x_test, y_test) >= 0.95


def test_training_is_reproducible_from_the_seed():
    x, y = demo.make_moons(300, seed=0)
    _, h1 = demo.train_classifier(x, y, steps=20, seed=7)
    _, h2 = demo.train_classifier(x, y, steps=20, seed=7)
    assert h1 == h2


def test_demo_main_writes_the_picture(tmp_path, capsys):
    assert demo.main(["--steps", "300", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    png = tmp_path / "decision_boundary.png"
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    held_out = float(out.split("held-out ")[1].split("%")[0])
    assert held_out >= 95.0


def test_demo_without_cupy_says_what_to_install(capsys, monkeypatch):
    from minigan import backend

    monkeypatch.setattr(backend, "_cupy", None)
    assert demo.main(["--backend", "cupy", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "cupy-cuda12x" in err and "Traceback" not in err
