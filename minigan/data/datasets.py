"""MNIST, Fashion-MNIST and KMNIST: found on disk or downloaded, verified, scaled to [-1, 1].

All three share the IDX format, the 28x28 size, 10 classes and the upstream file names::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (60,000 examples)
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (10,000 examples)

Where the files are looked for, in order (the first folder holding both files wins):

1. ``data_dir`` (``--data-dir``), then ``data_dir/<name>/``;
2. ``$MINIGAN_DATA``, then ``$MINIGAN_DATA/<name>/``;
3. the cache ``$XDG_CACHE_HOME/minigan/<name>/`` (default ``~/.cache/minigan/<name>/``);
4. ``/usr/share/datasets/fashion-mnist`` (Debian's ``dataset-fashion-mnist``; Fashion-MNIST only);

then they are downloaded into the cache. :func:`locate` (or ``load(..., with_source=True)``)
says which folder was used and which of these five sources it is. Checksums are SHA-256 of the *decompressed*
bytes, so upstream ``.gz`` files, Debian's recompressed ones and gunzipped copies all
verify. A file whose checksum is that of another dataset is skipped, so a
``$MINIGAN_DATA`` holding MNIST never passes for Fashion-MNIST.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from minigan.data.errors import DataError, DataNotFoundError
from minigan.data.idx import parse_idx, read_bytes
from minigan.data.toy2d import TOY_DATASETS, modes

__all__ = [
    "DATASETS",
    "SPLITS",
    "load",
    "locate",
    "DataSource",
    "SOURCES",
    "split_test_files",
    "TEST_TRAIN_SHARE",
    "find",
    "search_dirs",
    "cache_dir",
    "class_names",
    "n_classes",
    "is_toy",
    "SHA256",
    "MIRRORS",
]

DATASETS = ("mnist", "fashion-mnist", "kmnist")
SPLITS = ("train", "test")
_PREFIX = {"train": "train", "test": "t10k"}
IMAGE_SHAPE = (28, 28)

# Examples per split: checked on a download whose checksum is unknown (None below).
EXPECTED_N = {"train": 60000, "test": 10000}

# SHA-256 of the DECOMPRESSED files (not of the .gz: Debian recompresses Fashion-MNIST).
# None = not known offline: such a file is accepted when its IDX structure is valid
# (and, when downloaded, when it holds EXPECTED_N examples), unless its checksum is
# another dataset's.
# - MNIST t10k and all of Fashion-MNIST: from DESIGN.md, checked against the real files
#   (/work/shared/data/mnist and Debian's dataset-fashion-mnist).
# - MNIST train: not available offline to check; the same two values are listed for the
#   decompressed files by many independent public projects, next to the t10k values above
#   (and next to the .gz SHA-256 440fcabf.../3552534a... of the CVDF mirror).
# - KMNIST: only MD5s / SHA-256s of the .gz files are published (torchvision:
#   51467d22..., e38f9ebc..., edd7a857..., 20bb9a0e...), which do not fit a check of the
#   decompressed bytes; so None.
SHA256: dict[str, dict[str, str | None]] = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    "kmnist": {
        "train-images-idx3-ubyte": None,
        "train-labels-idx1-ubyte": None,
        "t10k-images-idx3-ubyte": None,
        "t10k-labels-idx1-ubyte": None,
    },
}

# Base URLs, tried in order; a file's URL is base + "<file>.gz". Tests point these at 127.0.0.1.
MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    "kmnist": ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
}

# Folders the operating system's packages put datasets in.
SYSTEM_DIRS: dict[str, list[Path]] = {"fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")]}
SYSTEM_SOURCES = {"fashion-mnist": "Debian's dataset-fashion-mnist"}  # what locate() calls those folders
SYSTEM_HINTS = {"fashion-mnist": "install Debian's package (`apt-get install dataset-fashion-mnist`)"}

DOWNLOAD_TIMEOUT_S = 30.0
_DOWNLOAD_FIX = "the download was discarded: run again later, or get the files another way (`data_dir` or MINIGAN_DATA)"

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    # One hiragana per row of the table, romanized: お き す つ な は ま や れ を.
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
}


def _name(name: str) -> str:
    key = str(name).lower().replace("_", "-")
    if key in DATASETS:
        return key
    if key in TOY_DATASETS:
        raise ValueError(
            f"{name!r} is a 2-D toy dataset, generated rather than loaded: use minigan.data.sample({key!r}, n, rng)."
        )
    raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS + TOY_DATASETS)}.")


def _split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}: choose 'train' or 'test'.")
    return split


def is_toy(name: str) -> bool:
    """True for the generated 2-D mixtures (``ring8``, ``grid25``), False for image datasets."""
    return str(name).lower() in TOY_DATASETS


def class_names(name: str) -> tuple[str, ...]:
    """The label names, index = label: e.g. ``class_names('fashion-mnist')[9] == 'Ankle boot'``.

    For a 2-D toy the "classes" are its modes: ``('mode 0', ..., 'mode K-1')``.
    """
    if is_toy(name):
        return tuple(f"mode {k}" for k in range(len(modes(name)[0])))
    return CLASS_NAMES[_name(name)]


def n_classes(name: str) -> int:
    """Number of labels (10 for every image dataset; K modes for a 2-D toy)."""
    return len(class_names(name))


def file_names(split: str) -> tuple[str, str]:
    """Upstream names, without ``.gz``, of the ``(images, labels)`` files of a split."""
    prefix = _PREFIX[_split(split)]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def cache_dir(name: str | None = None) -> Path:
    """``$XDG_CACHE_HOME/minigan`` (default ``~/.cache/minigan``), or its ``<name>/`` subfolder."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    root = (Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "minigan"
    return root if name is None else root / _name(name)


# Where locate() says a dataset's files were found, in look-up order. No command-line flag is
# named here (the library names none): a command line says "--data-dir" for the first.
SOURCES = ("the data_dir argument", "$MINIGAN_DATA", "the cache", "Debian's dataset-fashion-mnist", "downloaded")


class DataSource(NamedTuple):
    """Where a split's files were found: ``folder``, and ``source``, one of :data:`SOURCES`."""

    folder: Path
    source: str

    def __str__(self) -> str:
        return f"{self.folder} ({self.source})"


def _search(name: str, data_dir: str | os.PathLike | None) -> list[tuple[Path, str]]:
    """(folder, source) in look-up order, each folder once (under the first source that names it)."""
    pairs: list[tuple[Path, str]] = []
    for base, source in ((data_dir, SOURCES[0]), (os.environ.get("MINIGAN_DATA") or None, SOURCES[1])):
        if base is not None:
            base = Path(base).expanduser()
            pairs += [(base, source), (base / name, source)]
    pairs.append((cache_dir(name), SOURCES[2]))
    pairs += [(d, SYSTEM_SOURCES.get(name, "a system folder")) for d in SYSTEM_DIRS.get(name, [])]
    unique: dict[Path, str] = {}
    for folder, source in pairs:
        unique.setdefault(folder, source)
    return list(unique.items())


def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders looked in for ``name``, in order (whether they exist or not)."""
    return [folder for folder, _ in _search(_name(name), data_dir)]


def _owner(digest: str) -> tuple[str, str] | None:
    """(dataset, file) whose known checksum is ``digest``, if any."""
    for dataset, files in SHA256.items():
        for fname, known in files.items():
            if known == digest:
                return dataset, fname
    return None


def _existing(folder: Path, fname: str) -> Path | None:
    for candidate in (folder / f"{fname}.gz", folder / fname):
        if candidate.is_file():
            return candidate
    return None


def _verified(name: str, folder: Path, split: str) -> tuple[list[bytes] | None, str]:
    """The decompressed (images, labels) bytes of ``folder``, or None and why not."""
    paths = [_existing(folder, f) for f in file_names(split)]
    if not folder.is_dir():
        return None, "missing"
    if None in paths:
        return None, "no files" if paths == [None, None] else "incomplete"
    blobs = []
    for fname, path in zip(file_names(split), paths):
        data = read_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        known = SHA256[name][fname]
        if digest == known:
            blobs.append(data)
            continue
        owner = _owner(digest)
        if owner is not None:  # a genuine file, of another dataset (or split): not ours
            return None, f"holds {owner[0]} {owner[1]}"
        if known is None:  # checksum unknown: the IDX checks in load() are all we can do
            blobs.append(data)
            continue
        raise DataError(
            f"{path} has SHA-256 {digest}, but the {name} file {fname} has {known}, so it is truncated or modified; "
            f"delete it (minigan then downloads a fresh copy into its cache) or point `data_dir` elsewhere."
        )
    return blobs, "ok"


def _locate(name: str, split: str, dirs: list[Path]) -> tuple[Path | None, list[bytes] | None, list[str]]:
    notes = []
    for folder in dirs:
        blobs, why = _verified(name, folder, split)
        if blobs is not None:
            return folder, blobs, notes
        notes.append(f"{folder} ({why})")
    return None, None, notes


def locate(name: str, split: str = "train", data_dir: str | os.PathLike | None = None) -> DataSource | None:
    """Where ``split`` of ``name`` would be loaded from: ``DataSource(folder, source)``, else None.

    ``source`` says which step of the look-up found the folder: "the data_dir argument",
    "$MINIGAN_DATA", "the cache" or "Debian's dataset-fashion-mnist" ("downloaded" only comes
    from ``load(..., with_source=True)``, which knows it fetched the files). Never downloads.
    Raises DataError for a file that is corrupt.
    """
    name, split = _name(name), _split(split)
    pairs = _search(name, data_dir)
    folder, _, _ = _locate(name, split, [d for d, _ in pairs])
    return None if folder is None else DataSource(folder, dict(pairs)[folder])


def find(name: str, split: str = "train", data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first folder of :func:`search_dirs` holding both verified files of ``split``, else None.

    Never downloads. Raises DataError for a file that is corrupt.
    """
    located = locate(name, split, data_dir)
    return None if located is None else located.folder


def _download(url: str, dest: Path, name: str, fname: str, split: str, progress: bool) -> None:
    """Fetch ``url`` into ``dest`` through a temporary file; verified before the atomic rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part" + dest.suffix)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
        data = read_bytes(tmp, source=url, fix=_DOWNLOAD_FIX)
        digest = hashlib.sha256(data).hexdigest()
        known = SHA256[name][fname]
        if known is not None and digest != known:
            raise DataError(
                f"The file downloaded from {url} has SHA-256 {digest} after decompression, not the expected {known}; "
                f"{_DOWNLOAD_FIX}."
            )
        array = parse_idx(data, source=url, copy=False, fix=_DOWNLOAD_FIX)
        if known is None and len(array) != EXPECTED_N[split]:
            raise DataError(
                f"The file downloaded from {url} holds {len(array)} examples, not the expected {EXPECTED_N[split]}; "
                f"{_DOWNLOAD_FIX}."
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(name: str, split: str, progress: bool) -> str | None:
    """Download the missing files of ``split`` into the cache; None, or why it failed."""
    folder = cache_dir(name)
    for fname in file_names(split):
        if _existing(folder, fname) is not None:
            continue
        errors = []
        for base in MIRRORS[name]:
            url = base + f"{fname}.gz"
            try:
                _download(url, folder / f"{fname}.gz", name, fname, split, progress)
                break
            except DataError:
                raise
            except (OSError, ValueError, http.client.HTTPException) as e:  # URLError, HTTPError, timeouts, refusals
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                errors.append(f"{url}: {reason}")
        else:
            return "downloading failed (" + "; ".join(errors) + ")"
    return None


def _to_arrays(name: str, split: str, folder: Path, blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    images_name, labels_name = file_names(split)
    images = parse_idx(blobs[0], source=folder / images_name, copy=False)
    labels = parse_idx(blobs[1], source=folder / labels_name, copy=False)
    fix = "replace both files with a matching pair (delete them and run again to download fresh copies)"
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{folder / images_name} does not hold {name} images: expected uint8 of shape (N, 28, 28), "
            f"found {images.dtype} of shape {images.shape}; {fix}."
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(
            f"{folder / labels_name} does not hold {name} labels: expected uint8 of shape (N,), "
            f"found {labels.dtype} of shape {labels.shape}; {fix}."
        )
    if len(images) != len(labels):
        raise DataError(
            f"{folder} holds {len(images)} {name} images but {len(labels)} labels: expected one label per image; {fix}."
        )
    if len(labels) and int(labels.max()) >= n_classes(name):
        raise DataError(
            f"{folder / labels_name} holds label {int(labels.max())}: expected labels 0..{n_classes(name) - 1}; {fix}."
        )
    # x = pixel / 127.5 - 1 in float32; 255 / 127.5 is exactly 2, so the maximum is exactly 1.
    x = np.divide(images.reshape(len(images), 1, *IMAGE_SHAPE), np.float32(127.5), dtype=np.float32)
    np.subtract(x, np.float32(1.0), out=x)
    return x, labels.astype(np.int64)


def load(
    name: str,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: bool = True,
    with_source: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, DataSource]:
    """Load an image dataset -> ``(x, y)``: x (N, 1, 28, 28) float32 in [-1, 1], y (N,) int64.

    x = pixel / 127.5 - 1, the range of G's tanh output. ``name``: mnist, fashion-mnist
    or kmnist; ``split``: train (60,000) or test (10,000). Looks in :func:`search_dirs`
    order, then (``download=True``) downloads into the cache, with a progress bar unless
    ``progress=False``. Host NumPy arrays; a DataLoader sends batches to the backend.
    ``with_source=True`` returns ``(x, y, source)``, where ``source`` is a :class:`DataSource`
    (folder and which look-up step found it, or "downloaded"), as :func:`locate` gives.

    Raises DataNotFoundError, listing every folder looked in and how to get the files,
    when the files are nowhere and cannot be downloaded; DataError for a corrupt file.
    """
    name, split = _name(name), _split(split)
    pairs = _search(name, data_dir)
    folder, blobs, notes = _locate(name, split, [d for d, _ in pairs])
    source = None if folder is None else dict(pairs)[folder]
    if folder is None:
        if not download:
            why = "downloading is off (download=False)"
        else:
            why = _fetch(name, split, progress)
            if why is None:
                folder, blobs, more = _locate(name, split, [cache_dir(name)])
                source = SOURCES[4]
                if folder is None:
                    why = f"the downloaded files in {more[0]} could not be used"
        if folder is None:
            hints = ["pass `data_dir` DIR", "set MINIGAN_DATA to a folder holding them"]
            if name in SYSTEM_HINTS:
                hints.append(SYSTEM_HINTS[name])
            hints.append(f"connect to the internet so minigan can download them into {cache_dir(name)}")
            raise DataNotFoundError(
                f"The {name} {split} files ({', '.join(f + '.gz' for f in file_names(split))}) are not in any of "
                f"{', '.join(notes)}, and {why}: {', '.join(hints[:-1])}, or {hints[-1]}."
            )
    x, y = _to_arrays(name, split, folder, blobs)
    return (x, y, DataSource(folder, source)) if with_source else (x, y)


TEST_TRAIN_SHARE = 0.8  # of the 10,000 test images, the fixed share that may be trained on


def split_test_files(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut a test split into a fixed 80% to train on and 20% held out: ``(x_train, y_train, x_ref, y_ref)``.

    Where only the test files exist (MNIST in the course's shared folder), the evaluation
    classifier trains on the 8,000 and measures against the 2,000 (its reference set); a GAN
    trained with ``--split test`` sees the same 8,000, so the reference stays unseen by both.
    The cut is one permutation from seed 0, the same on every machine.
    """
    perm = np.random.default_rng(0).permutation(len(x))
    n_train = round(TEST_TRAIN_SHARE * len(x))  # 8,000 of 10,000
    tr, ref = perm[:n_train], perm[n_train:]
    return x[tr], y[tr], x[ref], y[ref]
