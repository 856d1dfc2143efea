"""A small CNN classifier, trained with minigan itself, that scores a GAN's images.

The metrics of :mod:`minigan.measure.metrics` need a network that knows the dataset: its
class probabilities p(y|x) give the class histogram and the classifier score, and its
128-d penultimate features phi(x) give the Fréchet distance (FID with this network in
place of Inception). The network::

    x (N, 1, 28, 28) -> Conv2d(1, 32, 3, 1, 1) - ReLU                 (32, 28, 28)
                     -> Conv2d(32, 32, 4, 2, 1) - ReLU                (32, 14, 14)
                     -> Conv2d(32, 64, 4, 2, 1) - ReLU                (64, 7, 7)
                     -> Flatten - Linear(3136, 128) - ReLU = phi(x)   (128,)   the features
                     -> Linear(128, 10)                               (10,)    the logits

trained with cross-entropy and Adam. The protocol (which images train it, which ones
it is measured on and the samples are compared with):

- ``train/test``: the dataset's train split (60,000) trains it; the test split (10,000)
  is the reference set. Used whenever the train files are found.
- ``test-8000/2000``: only the test files are present (MNIST here): a fixed permutation
  (seed 0) of the 10,000 test images; the first 8,000 train it, the other 2,000 are the
  reference set.

``get_classifier(dataset)`` trains once and caches the weights, the measured accuracy
and the protocol in ``<cache>/minigan/<dataset>/classifier-<protocol>.npz``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from minigan import backend, nn, optim
from minigan.autograd import Tensor, no_grad
from minigan.data import cache_dir, find, load, split_test_files
from minigan.losses import cross_entropy

__all__ = [
    "Classifier", "ClassifierNet", "Split", "get_classifier", "load_split",
    "train_classifier", "cache_path", "choose_protocol", "Recipe", "RECIPES", "PROTOCOLS",
]

FORMAT = 1  # bump when the network or the training recipe changes: older caches are then retrained
N_FEATURES = 128
N_CLASSES = 10
PROTOCOLS = ("train/test", "test-8000/2000")


@dataclass(frozen=True)
class Recipe:
    """How the classifier trains under a protocol: epochs, batch size, random shifts of up to max_shift pixels."""

    epochs: float
    batch_size: int
    max_shift: int


# Measured on this library's CPU backend (see get_classifier): enough to pass 98% on MNIST
# (test-8000/2000) and 89% on Fashion-MNIST (train/test). 8,000 images overfit without augmentation
# (97.3% at best on MNIST, 98.4% with shifts); 60,000 need none in 3 epochs, and shifting Fashion-MNIST's
# centred garments costs accuracy (88.5% against 89.9% after 3 epochs of batch 128); batch 64 gives 90.9%
# in 3 epochs, as much as 4 epochs of batch 128 (90.8%) in less time.
RECIPES = {"train/test": Recipe(epochs=3, batch_size=64, max_shift=0),
           "test-8000/2000": Recipe(epochs=12, batch_size=128, max_shift=2)}
LR = 1e-3


# --------------------------------------------------------------------------- the network


class ClassifierNet(nn.Module):
    """phi = body(x): (N, 1, 28, 28) -> (N, 128); logits = head(phi): (N, 128) -> (N, 10)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, N_FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(N_FEATURES, N_CLASSES)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def _as_images(x: Any) -> np.ndarray:
    """(N, 784), (N, 28, 28) or (N, 1, 28, 28) -> a host float32 array (N, 1, 28, 28)."""
    a = backend.to_numpy(x.data if isinstance(x, Tensor) else x)
    if a.ndim not in (2, 3, 4) or a.shape[1:] not in ((784,), (28, 28), (1, 28, 28)):
        raise ValueError(f"the classifier takes images of shape (N, 1, 28, 28), (N, 28, 28) or (N, 784), "
                         f"got {a.shape}.")
    return a.reshape(len(a), 1, 28, 28).astype(np.float32, copy=False)


def _softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _fresh_generator(seed: int) -> Any:
    """Seed the run's generator for the classifier, and give back a function that restores its stream."""
    state = backend.generator().bit_generator.state
    backend.manual_seed(seed)

    def restore() -> None:
        backend.generator().bit_generator.state = state

    return restore


def _shift(x: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Translate each image (N, 1, 28, 28) by a random (dy, dx) in [-max_shift, max_shift]^2, filling with -1."""
    if max_shift <= 0:
        return x
    m = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (m, m), (m, m)), constant_values=-1.0)
    out = np.empty_like(x)
    d = rng.integers(0, 2 * m + 1, size=(len(x), 2))
    for dy in range(2 * m + 1):  # (2m+1)^2 slices, each moving the images that share a shift at once
        for dx in range(2 * m + 1):
            idx = np.flatnonzero((d[:, 0] == dy) & (d[:, 1] == dx))
            out[idx] = padded[idx, :, dy:dy + 28, dx:dx + 28]
    return out


def train_classifier(x: np.ndarray, y: np.ndarray, epochs: float, batch_size: int = 128, lr: float = LR,
                     seed: int = 0, max_shift: int = 0, quiet: bool = False) -> ClassifierNet:
    """Train a ClassifierNet on images x (N, 1, 28, 28) in [-1, 1] with labels y (N,): Adam on cross_entropy.

    Each epoch is a fresh permutation; each batch is randomly shifted by up to ``max_shift`` pixels;
    the learning rate follows a cosine from ``lr`` down to 0 (lr_t = lr (1 + cos(pi t / T)) / 2), which
    lets the last epochs settle. ``epochs`` may be fractional. The run's generator is left as it was.
    """
    x, y = _as_images(x), np.asarray(y, dtype=np.int64)
    restore = _fresh_generator(seed)
    try:
        net = ClassifierNet()
    finally:
        restore()
    rng = np.random.default_rng([seed, 1])
    opt = optim.Adam(net.parameters(), lr=lr)
    b = backend.current()
    steps_per_epoch = max(1, len(x) // batch_size)
    total = max(1, round(epochs * steps_per_epoch))
    net.train()
    step, t0 = 0, time.perf_counter()
    while step < total:
        perm = rng.permutation(len(x))
        for i in range(steps_per_epoch):
            if step == total:
                break
            idx = perm[i * batch_size:(i + 1) * batch_size]
            opt.lr = lr * 0.5 * (1.0 + math.cos(math.pi * step / total))
            xb = Tensor(b.asarray(_shift(x[idx], rng, max_shift)))
            loss = cross_entropy(net(xb), b.asarray(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if not quiet and (step % 100 == 0 or step == total):
                print(f"  classifier step {step}/{total}  loss {loss.item():.4f}  {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)
    net.eval()
    return net


# --------------------------------------------------------------------------- the classifier


class Classifier:
    """A trained ClassifierNet and what is known of it (dataset, protocol, test accuracy).

    ``features(x)`` and ``probs(x)`` take images (N, 1, 28, 28), (N, 28, 28) or (N, 784) in
    [-1, 1] (host or device arrays, or Tensors) and give host float64 arrays.
    """

    def __init__(self, net: ClassifierNet, dataset: str, info: dict[str, Any] | None = None) -> None:
        self.net = net.eval()
        self.dataset = dataset
        self.info: dict[str, Any] = dict(info or {})

    @property
    def accuracy(self) -> float | None:
        """Top-1 accuracy on the reference (test) set, measured when it was trained."""
        return self.info.get("accuracy")

    @property
    def protocol(self) -> str | None:
        return self.info.get("protocol")

    def features_and_logits(self, x: Any, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """One pass, under no_grad in eval mode: images (N, ...) -> (phi (N, 128), logits (N, 10))."""
        a = _as_images(x)
        b = backend.current()
        self.net.eval()
        feats, logits = [np.zeros((0, N_FEATURES))], [np.zeros((0, N_CLASSES))]
        with no_grad():
            for i in range(0, len(a), batch_size):
                phi = self.net.body(Tensor(b.asarray(a[i:i + batch_size])))
                feats.append(backend.to_numpy(phi.data).astype(np.float64))
                logits.append(backend.to_numpy(self.net.head(phi).data).astype(np.float64))
        return np.concatenate(feats), np.concatenate(logits)

    def features_and_probs(self, x: Any, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """Images (N, ...) -> (phi (N, 128), p(y|x) (N, 10)) from one forward pass."""
        f, s = self.features_and_logits(x, batch_size)
        return f, _softmax(s)

    def features(self, x: Any, batch_size: int = 500) -> np.ndarray:
        """phi(x): images (N, ...) -> (N, 128), the penultimate ReLU features."""
        return self.features_and_logits(x, batch_size)[0]

    def logits(self, x: Any, batch_size: int = 500) -> np.ndarray:
        """Images (N, ...) -> logits (N, 10)."""
        return self.features_and_logits(x, batch_size)[1]

    def probs(self, x: Any, batch_size: int = 500) -> np.ndarray:
        """p(y|x) = softmax(logits): images (N, ...) -> (N, 10), rows summing to 1."""
        return _softmax(self.logits(x, batch_size))

    def accuracy_on(self, x: Any, y: np.ndarray) -> float:
        """Fraction of images whose argmax class is the label y (N,)."""
        return float((self.logits(x).argmax(1) == np.asarray(y)).mean())

    def save(self, path: str | os.PathLike) -> None:
        """Weights and info into one .npz (written to a temporary file first, so a crash leaves no half file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"param/{k}": v for k, v in self.net.state_dict().items()}
        self.info.update(dataset=self.dataset, format=FORMAT)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, info=np.array(json.dumps(self.info)), **arrays)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Classifier:
        """The classifier saved by ``save``, on the current backend."""
        with np.load(path) as f:
            info = json.loads(str(f["info"]))
            state = {k[len("param/"):]: f[k] for k in f.files if k.startswith("param/")}
        net = ClassifierNet()
        net.load_state_dict(state)
        return cls(net, info["dataset"], info)

    def __repr__(self) -> str:
        acc = "?" if self.accuracy is None else f"{self.accuracy:.4f}"
        return f"Classifier({self.dataset!r}, protocol={self.protocol!r}, accuracy={acc})"


# --------------------------------------------------------------------------- data and cache


@dataclass
class Split:
    """The images that train the classifier and the reference set it is measured on (and samples compared with)."""

    protocol: str
    x_train: np.ndarray  # (N_train, 1, 28, 28) float32 in [-1, 1]
    y_train: np.ndarray  # (N_train,) int64
    x_ref: np.ndarray  # (N_ref, 1, 28, 28)
    y_ref: np.ndarray  # (N_ref,)


def choose_protocol(dataset: str, data_dir: str | os.PathLike | None = None) -> str:
    """``train/test`` when the train files are found (never downloads), else ``test-8000/2000``
    when only the test files are; with neither, ``train/test`` (the files are then downloaded)."""
    if find(dataset, "train", data_dir) is not None:
        return "train/test"
    return "test-8000/2000" if find(dataset, "test", data_dir) is not None else "train/test"


def load_split(dataset: str, data_dir: str | os.PathLike | None = None, protocol: str | None = None) -> Split:
    """The classifier's data under ``protocol`` (default: :func:`choose_protocol`).

    Raises DataNotFoundError (one sentence naming where it looked) when the files are missing.
    """
    protocol = protocol or choose_protocol(dataset, data_dir)
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown classifier protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}.")
    if protocol == "train/test":
        x_train, y_train = load(dataset, "train", data_dir, progress=False)
        x_ref, y_ref = load(dataset, "test", data_dir, progress=False)
        return Split(protocol, x_train, y_train, x_ref, y_ref)
    x, y = load(dataset, "test", data_dir, progress=False)
    return Split(protocol, *split_test_files(x, y))  # the fixed 8,000 / 2,000 cut


def cache_path(dataset: str, protocol: str) -> Path:
    """``<cache_dir(dataset)>/classifier-<protocol>.npz``, e.g. ``.../mnist/classifier-test-8000-2000.npz``."""
    return cache_dir(dataset) / f"classifier-{protocol.replace('/', '-')}.npz"


def get_classifier(dataset: str, data_dir: str | os.PathLike | None = None, quiet: bool = False,
                   split: Split | None = None) -> Classifier:
    """The classifier of ``dataset``: loaded from the cache, or trained (``RECIPES[protocol]``), measured
    on the reference set and cached. ``split`` (from :func:`load_split`) saves loading the data again.
    """
    protocol = split.protocol if split is not None else choose_protocol(dataset, data_dir)
    path = cache_path(dataset, protocol)
    if path.exists():
        try:
            clf = Classifier.load(path)
            if clf.info.get("format") == FORMAT and clf.dataset == dataset:
                return clf
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # unreadable (cut short, overwritten) or from an older version: train again
        if not quiet:
            print(f"minigan.classifier: {path} is stale or unreadable; training again", file=sys.stderr)
    split = split or load_split(dataset, data_dir, protocol)
    r = RECIPES[protocol]
    if not quiet:
        print(f"minigan.classifier: training the {dataset} classifier ({protocol}: {len(split.x_train)} images, "
              f"{r.epochs} epochs); cached in {path} once done", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    net = train_classifier(split.x_train, split.y_train, r.epochs, r.batch_size, max_shift=r.max_shift, quiet=quiet)
    seconds = time.perf_counter() - t0
    clf = Classifier(net, dataset)
    clf.info = {"protocol": protocol, "accuracy": clf.accuracy_on(split.x_ref, split.y_ref),
                "n_train": len(split.x_train), "n_reference": len(split.x_ref), "epochs": r.epochs,
                "batch_size": r.batch_size, "lr": LR, "max_shift": r.max_shift, "train_seconds": round(seconds, 1),
                "backend": backend.current().name}
    clf.save(path)
    if not quiet:
        print(f"minigan.classifier: {dataset} test accuracy {clf.accuracy:.4f} after {seconds:.0f} s",
              file=sys.stderr)
    return clf
