"""End to end: ``python -m minigan.evaluate`` scores samples with their calibration, and fails in one sentence."""

import json
import math

import numpy as np
import pytest

from minigan import evaluate, train
from minigan.data import datasets, modes, write_idx
from minigan.measure import classifier, evaluation


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No test here may reach the network or the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(datasets, "MIRRORS", {k: ["http://127.0.0.1:9/"] for k in datasets.MIRRORS})


def run(capsys, *args):
    code = evaluate.main(["--quiet", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


# ---- 2-D toys


def test_exact_mode_centers_cover_every_mode(tmp_path, capsys):
    centers, _ = modes("ring8")
    np.save(tmp_path / "s.npy", np.tile(centers, (50, 1)).astype(np.float32))
    code, out, _ = run(capsys, "--dataset", "ring8", "--samples", tmp_path / "s.npy", "--out", tmp_path / "m.json")
    assert code == 0
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["kind"] == "toy" and m["n_samples"] == 400
    s = m["samples"]
    assert {k: s[k] for k in ("modes_covered", "n_modes", "high_quality", "reverse_kl", "n_samples")} == {
        "modes_covered": 8, "n_modes": 8, "high_quality": 1.0, "reverse_kl": 0.0, "n_samples": 400}
    # Quality and diversity apart: the 8 centres are as realistic as can be (each inside the data's k-NN
    # manifold, and in more real balls than a sample of the data is: density > 1), but 8 points repeated
    # have balls of radius 0, so no real point is recalled and only the few real points whose ball
    # reaches a centre are covered.
    assert s["precision"] == 1.0 and s["density"] > 1.1 and s["recall"] == 0.0 and s["coverage"] < 0.2
    # KID's cubic kernel (x.y / d + 1)^3 compares the moments up to the third: the 8 centres share them with
    # the ring (its modes' spread is 0.02 on a radius of 2), so KID cannot tell them apart. A blind spot.
    assert abs(s["kid"]) < 3 * s["kid_se"]
    assert set(m["calibration"]) == {"real", "noise", "collapse"}
    real = m["calibration"]["real"]  # the data's own samples: all modes; in 2-D P(r <= 3 std) = 1 - exp(-9/2) = 98.9%
    assert real["modes_covered"] == 8 and 0.97 < real["high_quality"] < 1 and real["reverse_kl"] < 0.05
    assert "modes covered" in out and "8 / 8" in out and "100.0%" in out
    for word in ("precision", "recall", "density", "coverage", "KID", "collapse"):
        assert word in out


def test_toy_calibration_rows_mark_the_ends_of_each_score(tmp_path, capsys):
    """Real data scores like the data on every measure; noise is unrealistic; the 10-point collapse is
    realistic but recalls and covers almost nothing: what precision or HQ alone would hide."""
    from minigan.data import sample
    np.save(tmp_path / "s.npy", sample("grid25", 2000, np.random.default_rng(1)))
    code, out, _ = run(capsys, "--dataset", "grid25", "--samples", tmp_path / "s.npy", "--out", tmp_path / "m.json")
    m = json.loads((tmp_path / "m.json").read_text())
    s, c = m["samples"], m["calibration"]
    for d in (s, c["real"]):  # a fresh sample of the data: all four near 1 in 2-D, KID within 3 standard errors of 0
        assert d["precision"] > 0.95 and d["recall"] > 0.95 and 0.9 < d["density"] < 1.1 and d["coverage"] > 0.93
        assert abs(d["kid"]) < 3 * d["kid_se"]
    assert c["noise"]["precision"] < 0.1 and c["noise"]["density"] < 0.1 and c["noise"]["coverage"] < 0.2
    col = c["collapse"]
    assert col["precision"] >= 0.9 and col["recall"] < 0.01 and col["coverage"] < 0.05 and col["modes_covered"] <= 10
    assert col["kid"] > 10 * col["kid_se"]
    assert code == 0 and "collapse" in out


def test_a_collapsed_generator_covers_one_mode(tmp_path, capsys):
    centers, _ = modes("ring8")
    np.save(tmp_path / "s.npy", np.repeat(centers[3:4], 100, axis=0))
    code, out, _ = run(capsys, "--dataset", "RING8", "--samples", tmp_path / "s.npy", "--out", tmp_path / "m.json")
    s = json.loads((tmp_path / "m.json").read_text())["samples"]
    assert code == 0 and s["modes_covered"] == 1 and s["high_quality"] == 1.0
    assert s["reverse_kl"] == pytest.approx(math.log(8))
    assert "1 / 8" in out


def test_a_run_folder_gets_its_metrics_json(tmp_path, capsys):
    out = tmp_path / "ring8"
    assert train.main(["--quiet", "--dataset", "ring8", "--steps", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    code, text, _ = run(capsys, "--run", out, "--n", 300)
    m = json.loads((out / "metrics.json").read_text())
    assert code == 0 and m["run"] == str(out) and m["dataset"] == "ring8" and m["n_samples"] == 300
    assert 0 <= m["samples"]["high_quality"] <= 1 and 0 <= m["samples"]["modes_covered"] <= 8
    assert f"wrote {out / 'metrics.json'}" in text


# ---- images


@pytest.fixture
def fake_kmnist(tmp_path, monkeypatch):
    """200 KMNIST 'test' images (a learnable toy problem); the classifier trains 2 epochs on 160 of them."""
    monkeypatch.setitem(classifier.RECIPES, "test-8000/2000", classifier.Recipe(2, 128, 2))
    rng = np.random.default_rng(0)
    y = np.arange(200) % 10  # class k: a bright 8x8 square at the k-th of 10 places, plus noise
    x = -np.ones((200, 1, 28, 28), dtype=np.float32)
    for i, k in enumerate(y):
        x[i, 0, 2 + 14 * (k // 5):10 + 14 * (k // 5), 1 + 5 * (k % 5):9 + 5 * (k % 5)] = 1.0
    x = np.clip(x + 0.2 * rng.standard_normal(x.shape), -1, 1)
    folder = tmp_path / "data"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.round((x[:, 0] + 1) * 127.5).astype(np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", y.astype(np.uint8))
    return folder


def test_images_are_scored_beside_real_data_and_noise(fake_kmnist, tmp_path, capsys):
    split = classifier.load_split("kmnist", fake_kmnist)
    pixels = np.round((split.x_train[:100, 0] + 1) * 127.5).astype(np.uint8)  # (N, 28, 28) in [0, 255]
    np.save(tmp_path / "s.npy", pixels)
    code, out, _ = run(capsys, "--dataset", "kmnist", "--samples", tmp_path / "s.npy", "--data-dir", fake_kmnist,
                       "--out", tmp_path / "m.json")
    assert code == 0
    m = json.loads((tmp_path / "m.json").read_text())
    s, real, noise = m["samples"], m["calibration"]["real"], m["calibration"]["noise"]
    assert m["kind"] == "images" and m["classifier"]["protocol"] == "test-8000/2000"
    assert m["classifier"]["n_train"] == 160 and m["classifier"]["n_reference"] == 40
    assert sum(s["histogram"]) == 100 and s["n_classes"] == 10 and 1 <= s["classes_covered"] <= 10
    assert 1.0 <= s["classifier_score"] <= 10.0 and s["class_kl"] >= 0
    assert real["n_samples"] == noise["n_samples"] == 100
    assert noise["fd"] > 3 * max(real["fd"], s["fd"])  # noise is far from the data in the classifier's features
    # the collapse: 10 training images, 10 times each (this 2-epoch classifier misreads most of them, so the
    # histogram is only made of multiples of 10), and no recall
    col = m["calibration"]["collapse"]
    assert sum(col["histogram"]) == 100 and all(h % 10 == 0 for h in col["histogram"])
    assert col["recall"] == 0.0 and col["coverage"] < real["coverage"]
    for word in ("Fréchet distance", "classes covered", "class KL", "classifier score", "real data", "noise"):
        assert word in out
    # the same images as floats (N, 1, 28, 28) in [-1, 1] get the same scores (the classifier now from the cache)
    np.save(tmp_path / "f.npy", pixels[:, None] / np.float32(127.5) - np.float32(1))
    assert evaluate.main(["--quiet", "--dataset", "kmnist", "--samples", str(tmp_path / "f.npy"),
                          "--data-dir", str(fake_kmnist), "--out", str(tmp_path / "f.json")]) == 0
    again = json.loads((tmp_path / "f.json").read_text())["samples"]
    assert again.pop("histogram") == s["histogram"]
    assert again == pytest.approx({k: v for k, v in s.items() if k != "histogram"})
    # a conditional run's labels: how often the classifier agrees with them
    m = evaluation.evaluate_samples(split.x_train[:100], "kmnist", data_dir=fake_kmnist, labels=split.y_train[:100])
    clf = classifier.get_classifier("kmnist", fake_kmnist)
    assert m["samples"]["label_accuracy"] == clf.accuracy_on(split.x_train[:100], split.y_train[:100])
    # per class: the same agreement among the samples of each label, and the intra-class distance
    hit = clf.probs(split.x_train[:100]).argmax(1) == split.y_train[:100]
    per_class = m["samples"]["label_accuracy_per_class"]
    assert per_class == [float(hit[split.y_train[:100] == k].mean()) for k in range(10)]
    fds = m["samples"]["intra_fd_per_class"]
    assert len(fds) == 10 and all(f is None or f >= 0 for f in fds) and m["samples"]["intra_fd"] > 0
    assert m["samples"]["intra_fd"] == pytest.approx(np.mean([f for f in fds if f is not None]))
    assert "label_accuracy" in m["calibration"]["real"]  # real images with their own labels: the floor
    table = evaluation.format_table(m)
    assert "worst class" in table and "intra-class FD" in table
    assert "label accuracy" in evaluation.format_table(m)
    # ... and the same from the command line: --labels FILE.npy, --protocol named
    np.save(tmp_path / "y.npy", split.y_train[:100])
    code, out, _ = run(capsys, "--dataset", "kmnist", "--samples", tmp_path / "s.npy", "--labels", tmp_path / "y.npy",
                       "--protocol", "test-8000/2000", "--data-dir", fake_kmnist, "--out", tmp_path / "l.json")
    cli = json.loads((tmp_path / "l.json").read_text())
    assert code == 0 and cli["samples"]["label_accuracy"] == m["samples"]["label_accuracy"]
    assert cli["labels_file"] == str(tmp_path / "y.npy") and cli["classifier"]["protocol"] == "test-8000/2000"
    assert "label accuracy" in out


def test_the_image_collapse_takes_one_image_per_class_that_the_classifier_reads_right():
    """With a reader, each class's pick is an image the reader reads as its class: a perfect histogram."""
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 10
    x = np.arange(200, dtype=np.float32).reshape(200, 1)  # image i is the number i

    def read(a):  # reads image i right only when i >= 100; else says class 0
        i = a[:, 0].astype(int)
        return np.where(i >= 100, i % 10, 0)

    c = evaluation._collapse(x, 40, rng, labels, read)
    assert c.shape == (40, 1) and len(np.unique(c)) == 10
    picks = np.unique(c[:, 0]).astype(int)  # class 0 is read right everywhere; classes 1-9 only from image 100 on
    assert all(i >= 100 for i in picks if i % 10) and sorted(i % 10 for i in picks) == list(range(10))
    assert np.bincount(read(c)).tolist() == [4] * 10


def test_as_images_accepts_the_three_layouts_and_both_scales():
    x = np.linspace(0, 255, 784).round().reshape(1, 28, 28)
    a = evaluation.as_images(x)
    assert a.shape == (1, 1, 28, 28) and a.dtype == np.float32 and a.min() == -1.0 and a.max() == 1.0
    np.testing.assert_array_equal(evaluation.as_images(x.reshape(1, 784)), a)
    np.testing.assert_array_equal(evaluation.as_images(a), a)


# ---- errors: one sentence, exit code 2


@pytest.mark.parametrize("make, args, message", [
    (None, ["--run", "{tmp}/nowhere"], "is not a folder"),
    (None, ["--run", "{tmp}"], "holds no run (no config.json)"),
    (np.zeros((10, 3)), ["--dataset", "ring8"], "must have shape (N, 2), got (10, 3)"),
    (np.full((10, 2), np.nan), ["--dataset", "grid25"], "10 of 10 samples hold NaN"),
    (np.zeros((10, 2)), ["--dataset", "cifar10"], "unknown dataset 'cifar10'"),
    (np.zeros((4, 32, 32)), ["--dataset", "mnist"], "got (4, 32, 32)"),
    (np.full((4, 784), 3.0) * [[-1]], ["--dataset", "mnist"], "must lie in [-1, 1] or [0, 255]"),
    (np.zeros((0, 2)), ["--dataset", "ring8"], "no samples"),
    (np.zeros((4, 784)), ["--dataset", "kmnist", "--data-dir", "{tmp}/empty"], "The kmnist train files"),
    ("missing", ["--dataset", "ring8"], "does not exist"),
    (np.zeros((4, 784)), ["--dataset", "mnist", "--labels", "{tmp}/y3.npy"], "must have shape (4,), one per sample"),
    (np.zeros((4, 784)), ["--dataset", "mnist", "--labels", "{tmp}/yf.npy"], "must be integers"),
    (np.zeros((4, 784)), ["--dataset", "mnist", "--labels", "{tmp}/y10.npy"], "must lie in 0..9"),
    (np.zeros((4, 784)), ["--dataset", "mnist", "--labels", "{tmp}/none.npy"], "none.npy does not exist"),
])
def test_errors_are_one_clear_sentence(tmp_path, capsys, make, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    for name, labels in (("y3", np.arange(3)), ("yf", np.zeros(4)), ("y10", np.array([0, 1, 2, 10]))):
        np.save(tmp_path / f"{name}.npy", labels)
    if make is not None:
        path = tmp_path / "s.npy"
        if not isinstance(make, str):
            np.save(path, make)
        args += ["--samples", str(path)]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("minigan.evaluate: error: ") and message in err and err.count("\n") == 1
