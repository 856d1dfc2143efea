"""The scoring classifier: its training on a tiny problem, its cache, its data protocols.

Its loss, cross_entropy, is a generic loss: tests/test_losses.py tests it (log_softmax: tests/test_functional.py)."""

import os
from pathlib import Path

import numpy as np
import pytest

import minigan
from minigan import backend, evaluate
from minigan.data import datasets, write_idx
from minigan.measure import classifier
from minigan.measure.classifier import Classifier

MNIST = Path(os.environ.get("MINIGAN_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
needs_mnist = pytest.mark.skipif(not (MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                                 reason=f"the MNIST test files are not in {MNIST}")


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test here may reach the network or the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(datasets, "MIRRORS", {k: ["http://127.0.0.1:9/"] for k in datasets.MIRRORS})


def toy_images(n, rng):
    """A learnable 10-class problem: class k is a bright 8x8 square at the k-th of 10 places, plus noise."""
    y = np.arange(n) % 10
    x = -np.ones((n, 1, 28, 28), dtype=np.float32)
    for i, k in enumerate(y):
        r, c = 2 + 14 * (k // 5), 1 + 5 * (k % 5)
        x[i, 0, r:r + 8, c:c + 8] = 1.0
    x += 0.2 * rng.standard_normal(x.shape).astype(np.float32)
    return np.clip(x, -1, 1), y.astype(np.int64)


# ---- the network and its training


def test_features_and_probs_take_every_image_layout(rng):
    minigan.manual_seed(0)
    clf = Classifier(classifier.ClassifierNet(), "mnist")
    x = rng.uniform(-1, 1, (7, 1, 28, 28)).astype(np.float32)
    f, p = clf.features(x, batch_size=3), clf.probs(x, batch_size=3)
    assert f.shape == (7, 128) and f.dtype == np.float64 and (f >= 0).all()  # after a ReLU
    assert p.shape == (7, 10)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(clf.features(x.reshape(7, 784)), f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.probs(x.reshape(7, 28, 28)), p, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        clf.features(np.zeros((3, 3, 28, 28)))


def test_shift_moves_images_without_losing_them(rng):
    x = -np.ones((50, 1, 28, 28), dtype=np.float32)
    x[:, 0, 10:18, 10:18] = rng.uniform(0, 1, (50, 8, 8))
    assert classifier._shift(x, rng, 0) is x
    s = classifier._shift(x, rng, 2)
    np.testing.assert_allclose(np.sort((s + 1).reshape(50, -1), 1), np.sort((x + 1).reshape(50, -1), 1))
    assert (s != x).any(axis=(1, 2, 3)).mean() > 0.8  # 24 of 25 shifts move the picture


def test_training_learns_a_small_problem_and_leaves_the_run_generator_alone(rng):
    x, y = toy_images(100, rng)
    xt, yt = toy_images(100, rng)
    minigan.manual_seed(5)
    expected = np.random.default_rng(5).random(3)
    net = classifier.train_classifier(x, y, epochs=2, batch_size=20, lr=3e-3, quiet=True)
    assert Classifier(net, "mnist").accuracy_on(xt, yt) >= 0.9
    np.testing.assert_array_equal(backend.generator().random(3), expected)


# ---- the cache and the protocols, on a small fake KMNIST written to disk


def write_fake_kmnist(folder, rng, n_test, n_train=0):
    """IDX files of toy_images in [0, 255] (KMNIST's checksums are unknown, so any valid files are accepted)."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("t10k", n_test), ("train", n_train)):
        if n:
            x, y = toy_images(n, rng)
            write_idx(folder / f"{split}-images-idx3-ubyte.gz", np.round((x[:, 0] + 1) * 127.5).astype(np.uint8))
            write_idx(folder / f"{split}-labels-idx1-ubyte.gz", y.astype(np.uint8))
    return folder


@pytest.fixture
def fake_kmnist(tmp_path, rng, monkeypatch):
    """200 test images only: the test-8000/2000 protocol gives 160 to train on and 40 to measure; 2 epochs."""
    monkeypatch.setitem(classifier.RECIPES, "test-8000/2000", classifier.Recipe(2, 128, 2))
    return write_fake_kmnist(tmp_path / "data", rng, 200)


def test_test_files_only_give_the_80_20_protocol(fake_kmnist):
    assert classifier.choose_protocol("kmnist", fake_kmnist) == "test-8000/2000"
    split = classifier.load_split("kmnist", fake_kmnist)
    x, y = datasets.load("kmnist", "test", fake_kmnist, download=False)
    perm = np.random.default_rng(0).permutation(200)
    np.testing.assert_array_equal(split.x_train, x[perm[:160]])
    np.testing.assert_array_equal(split.y_ref, y[perm[160:]])


def test_train_files_give_the_train_test_protocol(tmp_path, rng):
    folder = write_fake_kmnist(tmp_path / "both", rng, 30, n_train=50)
    assert classifier.choose_protocol("kmnist", folder) == "train/test"
    split = classifier.load_split("kmnist", folder)
    assert (split.protocol, len(split.x_train), len(split.x_ref)) == ("train/test", 50, 30)


def test_get_classifier_trains_once_then_loads_the_identical_network(fake_kmnist, tmp_path, monkeypatch):
    clf = classifier.get_classifier("kmnist", fake_kmnist, quiet=True)
    path = tmp_path / "cache" / "minigan" / "kmnist" / "classifier-test-8000-2000.npz"
    assert classifier.cache_path("kmnist", "test-8000/2000") == path and path.is_file()
    assert clf.protocol == "test-8000/2000" and clf.info["n_train"] == 160 and clf.info["n_reference"] == 40
    split = classifier.load_split("kmnist", fake_kmnist)
    assert clf.accuracy == pytest.approx(clf.accuracy_on(split.x_ref, split.y_ref))

    def no_training(*a, **k):
        raise AssertionError("the cached classifier should have been loaded")

    monkeypatch.setattr(classifier, "train_classifier", no_training)
    again = classifier.get_classifier("kmnist", fake_kmnist, quiet=True)
    assert again.info == clf.info and again.dataset == "kmnist"
    x = split.x_ref[:20]
    np.testing.assert_array_equal(again.features(x), clf.features(x))
    np.testing.assert_array_equal(again.probs(x), clf.probs(x))


def test_a_stale_cache_is_retrained(fake_kmnist, monkeypatch, capsys):
    clf = classifier.get_classifier("kmnist", fake_kmnist, quiet=True)
    monkeypatch.setattr(classifier, "FORMAT", classifier.FORMAT + 1)
    calls = []
    monkeypatch.setattr(classifier, "train_classifier",
                        lambda *a, **k: calls.append(1) or classifier.ClassifierNet())  # no need to train again
    again = classifier.get_classifier("kmnist", fake_kmnist)
    assert calls == [1] and again.info["format"] == classifier.FORMAT != clf.info["format"]
    assert "stale" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["garbage", "cut", "empty"])
def test_a_corrupt_cache_is_retrained(fake_kmnist, monkeypatch, capsys, damage):
    classifier.get_classifier("kmnist", fake_kmnist, quiet=True)
    path = classifier.cache_path("kmnist", "test-8000/2000")
    data = path.read_bytes()
    path.write_bytes({"garbage": b"PK\x03\x04 not a zip" * 9, "cut": data[: len(data) // 2], "empty": b""}[damage])
    calls = []
    monkeypatch.setattr(classifier, "train_classifier",
                        lambda *a, **k: calls.append(1) or classifier.ClassifierNet())
    again = classifier.get_classifier("kmnist", fake_kmnist)
    assert calls == [1] and again.dataset == "kmnist"
    assert "unreadable; training again" in capsys.readouterr().err
    assert classifier.Classifier.load(path).dataset == "kmnist"  # rebuilt


def test_no_files_at_all_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(datasets.DataNotFoundError, match="kmnist"):
        classifier.load_split("kmnist", tmp_path / "empty")
    assert evaluate.main(["--classifier", "kmnist", "--data-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minigan.evaluate: error: The kmnist train files") and err.count("\n") == 1


def test_the_command_line_reports_the_accuracy(fake_kmnist, capsys):
    assert evaluate.main(["--classifier", "kmnist", "--data-dir", str(fake_kmnist)]) == 0
    clf = classifier.get_classifier("kmnist", fake_kmnist)
    assert f"kmnist: test-8000/2000, test accuracy {100 * clf.accuracy:.2f}% on 40 images, trained on 160" in \
        capsys.readouterr().out


@needs_mnist
@pytest.mark.slow
def test_the_real_mnist_classifier_passes_98_percent():
    clf = classifier.get_classifier("mnist", MNIST, quiet=True)
    assert clf.protocol == "test-8000/2000" and clf.accuracy > 0.98
