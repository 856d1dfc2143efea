"""Image datasets: look-up order, checksums, the download path (against a local server), clear errors.

Every test runs with its own cache (XDG_CACHE_HOME under tmp_path), no MINIGAN_DATA, no
system folders and mirrors on a closed port, so nothing touches ~/.cache or the internet.
"""

import copy
import functools
import gzip
import hashlib
import http.server
import os
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from minigan.data import (
    DataError,
    DataNotFoundError,
    DataSource,
    class_names,
    datasets,
    find,
    is_toy,
    load,
    locate,
    n_classes,
    search_dirs,
    write_idx,
)

_ROOT = Path(__file__).resolve().parents[1]
# $MINIGAN_DATA (itself or its mnist/ subfolder, as the loader looks), else ../shared/data/mnist.
_ENV = os.environ.get("MINIGAN_DATA")
_MNIST_CANDIDATES = [
    *((Path(_ENV), Path(_ENV) / "mnist") if _ENV else ()),
    _ROOT.parent / "shared/data/mnist",
    _ROOT / "shared/data/mnist",
]
MNIST_DIR = next((d for d in _MNIST_CANDIDATES if (d / "t10k-images-idx3-ubyte.gz").is_file()), _MNIST_CANDIDATES[0])
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"the real MNIST test files are not in {MNIST_DIR} (set MINIGAN_DATA to their folder)",
)
needs_fashion = pytest.mark.skipif(
    not (DEBIAN_FASHION / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)",
)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private cache, no MINIGAN_DATA, no proxies, no system folders, mirrors that refuse."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(datasets, "SHA256", copy.deepcopy(datasets.SHA256))
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {})
    down = closed_port_url()
    monkeypatch.setattr(datasets, "MIRRORS", {name: [down] for name in datasets.DATASETS})
    return cache / "minigan"


def sha(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha256(gzip.decompress(data) if path.name.endswith(".gz") else data).hexdigest()


def make_split(folder: Path, split="test", n=20, seed=0, gz=True, image_shape=(28, 28), n_labels=None):
    """Synthetic IDX files of one split -> (images uint8, labels uint8, image sha, label sha)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, size=(n, *image_shape), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=n_labels or n, dtype=np.uint8)
    img_name, lbl_name = datasets.file_names(split)
    ext = ".gz" if gz else ""
    ip = write_idx(folder / f"{img_name}{ext}", images)
    lp = write_idx(folder / f"{lbl_name}{ext}", labels)
    return images, labels, sha(ip), sha(lp)


def register(name, split, image_sha, label_sha):
    img_name, lbl_name = datasets.file_names(split)
    datasets.SHA256[name][img_name] = image_sha
    datasets.SHA256[name][lbl_name] = label_sha


def assert_one_line(err, *parts):
    msg = str(err.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, (part, msg)
    return msg


# ---------------------------------------------------------------- the real files


@needs_mnist
def test_real_mnist_test_set(monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(MNIST_DIR))
    x, y = load("mnist", "test", download=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    assert y[0] == 7 and y[:5].tolist() == [7, 2, 1, 0, 4]
    assert sorted(set(y.tolist())) == list(range(10))
    assert find("mnist", "test") == MNIST_DIR


@needs_mnist
def test_real_mnist_checksums_match_the_table():
    for fname in datasets.file_names("test"):
        assert sha(MNIST_DIR / f"{fname}.gz") == datasets.SHA256["mnist"][fname]


@needs_mnist
def test_minigan_data_holding_mnist_does_not_pass_for_fashion(monkeypatch, isolated):
    monkeypatch.setenv("MINIGAN_DATA", str(MNIST_DIR))
    with pytest.raises(DataNotFoundError) as err:
        load("fashion-mnist", "test", download=False)
    assert_one_line(err, f"{MNIST_DIR} (holds mnist t10k-images-idx3-ubyte)", str(isolated / "fashion-mnist"))
    assert find("fashion-mnist", "test") is None
    with pytest.raises(DataNotFoundError):
        load("kmnist", "test", download=False)  # KMNIST's checksum is unknown: MNIST's still gives it away


@needs_fashion
def test_fashion_from_debian(monkeypatch):
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": [DEBIAN_FASHION]})
    x, y = load("fashion-mnist", "test", download=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.float32
    assert x.min() == -1.0 and x.max() == 1.0
    assert y[:5].tolist() == [9, 2, 1, 1, 6]
    assert np.bincount(y).tolist() == [1000] * 10
    assert class_names("fashion-mnist")[y[0]] == "Ankle boot"
    assert find("fashion-mnist", "train") == DEBIAN_FASHION


# ---------------------------------------------------------------- look-up order (synthetic files)


def test_search_order(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": [tmp_path / "debian"]})
    assert search_dirs("fashion-mnist", tmp_path / "arg") == [
        tmp_path / "arg",
        tmp_path / "arg" / "fashion-mnist",
        tmp_path / "env",
        tmp_path / "env" / "fashion-mnist",
        isolated / "fashion-mnist",
        tmp_path / "debian",
    ]
    assert search_dirs("mnist") == [tmp_path / "env", tmp_path / "env" / "mnist", isolated / "mnist"]


def test_cache_dir_default_is_home_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.cache_dir("kmnist") == tmp_path / ".cache" / "minigan" / "kmnist"


def test_minigan_data_may_hold_one_folder_per_dataset(tmp_path, monkeypatch):
    images, labels, *_ = make_split(tmp_path / "all" / "kmnist")
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "all"))
    x, y = load("kmnist", "test", download=False)
    np.testing.assert_array_equal(x[:, 0], images.astype(np.float32) / 127.5 - 1)
    np.testing.assert_array_equal(y, labels)
    assert x[0, 0, 0, 0] == -1.0 and x[0, 0, 0, 1] == 1.0
    assert find("kmnist", "test") == tmp_path / "all" / "kmnist"


def test_data_dir_comes_before_minigan_data_and_cache(tmp_path, monkeypatch, isolated):
    make_split(tmp_path / "env", seed=1)
    make_split(isolated / "kmnist", seed=2)
    _, labels, *_ = make_split(tmp_path / "arg", seed=3, gz=False)  # non-.gz names are accepted too
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    np.testing.assert_array_equal(load("kmnist", "test", data_dir=tmp_path / "arg")[1], labels)
    _, env_labels, *_ = make_split(tmp_path / "env", seed=1)
    np.testing.assert_array_equal(load("kmnist", "test")[1], env_labels)
    monkeypatch.delenv("MINIGAN_DATA")
    _, cache_labels, *_ = make_split(isolated / "kmnist", seed=2)
    np.testing.assert_array_equal(load("kmnist", "test")[1], cache_labels)


def test_files_of_another_dataset_are_skipped(tmp_path, monkeypatch):
    _, _, img_sha, lbl_sha = make_split(tmp_path / "mnist-files", seed=4)
    register("mnist", "test", img_sha, lbl_sha)  # as if these were the real MNIST files
    _, labels, *_ = make_split(tmp_path / "mnist-files" / "kmnist", seed=5)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "mnist-files"))
    # kmnist's checksum is unknown (None), yet the top folder is recognised as MNIST and skipped
    np.testing.assert_array_equal(load("kmnist", "test", download=False)[1], labels)
    assert load("mnist", "test", download=False)[0].shape == (20, 1, 28, 28)


def test_corrupt_file_with_known_checksum_is_an_error(isolated):
    make_split(isolated / "mnist", seed=6)  # not the real MNIST: its checksum differs from the table's
    with pytest.raises(DataError) as err:
        load("mnist", "test", download=False)
    path = isolated / "mnist" / "t10k-images-idx3-ubyte.gz"
    assert_one_line(err, str(path), "SHA-256", datasets.SHA256["mnist"]["t10k-images-idx3-ubyte"], "delete it")


def test_truncated_file_in_cache_is_an_error(isolated):
    make_split(isolated / "kmnist")
    path = isolated / "kmnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataError) as err:
        load("kmnist", "test")
    assert_one_line(err, str(path), "truncated")


def test_images_and_labels_must_match(tmp_path):
    make_split(tmp_path / "a", n=20, n_labels=19)
    with pytest.raises(DataError) as err:
        load("kmnist", "test", data_dir=tmp_path / "a")
    assert_one_line(err, "holds 20 kmnist images but 19 labels")
    make_split(tmp_path / "b", image_shape=(27, 27))
    with pytest.raises(DataError) as err:
        load("kmnist", "test", data_dir=tmp_path / "b")
    assert_one_line(err, "t10k-images-idx3-ubyte", "expected uint8 of shape (N, 28, 28)", "(20, 27, 27)")
    write_idx(tmp_path / "b" / "t10k-images-idx3-ubyte.gz", np.zeros((20, 28, 28), np.uint8))
    write_idx(tmp_path / "b" / "t10k-labels-idx1-ubyte.gz", np.full(20, 10, np.uint8))
    with pytest.raises(DataError) as err:
        load("kmnist", "test", data_dir=tmp_path / "b")
    assert_one_line(err, "holds label 10", "expected labels 0..9")


def test_not_found_without_download(tmp_path, monkeypatch, isolated):
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": [tmp_path / "debian"]})
    with pytest.raises(DataNotFoundError) as err:
        load("fashion-mnist", "train", data_dir=tmp_path / "mine", download=False)
    assert_one_line(
        err,
        "train-images-idx3-ubyte.gz",
        f"{tmp_path / 'mine'} (missing)",
        str(tmp_path / "mine" / "fashion-mnist"),
        str(isolated / "fashion-mnist"),
        str(tmp_path / "debian"),
        "download=False",
        "`data_dir`",
        "MINIGAN_DATA",
        "apt-get install dataset-fashion-mnist",
    )
    assert isinstance(err.value, DataError) and isinstance(err.value, ValueError)


def test_names():
    assert datasets.DATASETS == ("mnist", "fashion-mnist", "kmnist")
    assert class_names("mnist") == tuple("0123456789")
    assert class_names("fashion_mnist")[0] == "T-shirt/top" and class_names("fashion-mnist")[9] == "Ankle boot"
    assert class_names("kmnist") == ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
    assert n_classes("kmnist") == 10 and n_classes("ring8") == 8 and n_classes("grid25") == 25
    assert is_toy("ring8") and is_toy("grid25") and not is_toy("mnist")
    with pytest.raises(ValueError, match="Unknown dataset 'cifar10': choose one of mnist, fashion-mnist"):
        load("cifar10")
    with pytest.raises(ValueError, match=r"2-D toy dataset.*sample\('ring8'"):
        load("ring8")
    with pytest.raises(ValueError, match="Unknown split 'val'"):
        load("mnist", "val")


# ---------------------------------------------------------------- downloads, from a server on 127.0.0.1


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """(folder it serves, its base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_download_into_cache(server, monkeypatch, isolated):
    root, url = server
    images, labels, img_sha, lbl_sha = make_split(root)
    register("kmnist", "test", img_sha, lbl_sha)
    monkeypatch.setitem(datasets.MIRRORS, "kmnist", [closed_port_url(), url])  # first mirror down: the next one
    x, y = load("kmnist", "test", progress=False)
    np.testing.assert_array_equal(x[:, 0], images.astype(np.float32) / 127.5 - 1)
    np.testing.assert_array_equal(y, labels)
    assert sorted(p.name for p in (isolated / "kmnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    assert (isolated / "kmnist" / "t10k-images-idx3-ubyte.gz").read_bytes() == (
        root / "t10k-images-idx3-ubyte.gz"
    ).read_bytes()
    monkeypatch.setitem(datasets.MIRRORS, "kmnist", [closed_port_url()])  # now served from the cache
    np.testing.assert_array_equal(load("kmnist", "test", download=False)[1], labels)


def test_download_with_wrong_checksum_leaves_nothing(server, monkeypatch, isolated):
    root, url = server
    _, _, _, lbl_sha = make_split(root)
    register("kmnist", "test", "0" * 64, lbl_sha)
    monkeypatch.setitem(datasets.MIRRORS, "kmnist", [url])
    with pytest.raises(DataError) as err:
        load("kmnist", "test", progress=False)
    assert not isinstance(err.value, DataNotFoundError)
    found = sha(root / "t10k-images-idx3-ubyte.gz")
    assert_one_line(err, f"{url}t10k-images-idx3-ubyte.gz", "0" * 64, found, "the download was discarded")
    assert not (isolated / "kmnist").exists() or list((isolated / "kmnist").iterdir()) == []


def test_download_with_unknown_checksum_checks_the_count(server, monkeypatch, isolated, capsys):
    root, url = server
    _, labels, *_ = make_split(root)  # kmnist checksums stay None
    monkeypatch.setitem(datasets.MIRRORS, "kmnist", [url])
    with pytest.raises(DataError) as err:
        load("kmnist", "test", progress=False)
    assert_one_line(err, f"{url}t10k-images-idx3-ubyte.gz", "holds 20 examples, not the expected 10000")
    assert list((isolated / "kmnist").iterdir()) == []
    monkeypatch.setitem(datasets.EXPECTED_N, "test", 20)
    capsys.readouterr()
    np.testing.assert_array_equal(load("kmnist", "test")[1], labels)
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar, on stderr


def test_download_of_a_page_that_is_not_gzip(server, monkeypatch, isolated):
    root, url = server
    (root / "t10k-images-idx3-ubyte.gz").write_text("<html>moved</html>")
    monkeypatch.setitem(datasets.MIRRORS, "kmnist", [url])
    with pytest.raises(DataError) as err:
        load("kmnist", "test", progress=False)
    assert_one_line(err, f"{url}t10k-images-idx3-ubyte.gz is not a gzip file")
    assert list((isolated / "kmnist").iterdir()) == []


def test_missing_on_server(server, monkeypatch):
    _, url = server
    monkeypatch.setitem(datasets.MIRRORS, "kmnist", [url])
    with pytest.raises(DataNotFoundError) as err:
        load("kmnist", "test", progress=False)
    assert_one_line(err, f"{url}t10k-images-idx3-ubyte.gz: File not found")


def test_server_down_lists_where_it_looked(tmp_path, monkeypatch, isolated):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    (tmp_path / "env").mkdir()
    with pytest.raises(DataNotFoundError) as err:
        load("mnist", "train", progress=False)
    down = datasets.MIRRORS["mnist"][0]
    msg = assert_one_line(
        err,
        f"{tmp_path / 'env'} (no files)",
        f"{tmp_path / 'env' / 'mnist'} (missing)",
        f"{isolated / 'mnist'} (missing)",
        f"downloading failed ({down}train-images-idx3-ubyte.gz:",
        "`data_dir`",
        "MINIGAN_DATA",
        "connect to the internet",
    )
    assert "apt-get" not in msg  # Debian packages Fashion-MNIST only


# ---------------------------------------------------------------- where the files came from


def test_locate_names_each_source(tmp_path, monkeypatch, isolated):
    """Each step of the look-up is reported as itself, by locate() and by load(with_source=True)."""
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": [tmp_path / "debian"]})
    _, _, img_sha, lbl_sha = make_split(tmp_path / "debian", seed=7)
    register("fashion-mnist", "test", img_sha, lbl_sha)  # as if these were Debian's real files

    def both(data_dir=None):
        located = locate("fashion-mnist", "test", data_dir)
        x, y, source = load("fashion-mnist", "test", data_dir, download=False, with_source=True)
        assert source == located and isinstance(source, DataSource) and len(x) == len(y) == 20
        return tuple(source)

    assert both() == (tmp_path / "debian", "Debian's dataset-fashion-mnist")
    shutil.copytree(tmp_path / "debian", isolated / "fashion-mnist")
    assert both() == (isolated / "fashion-mnist", "the cache")
    shutil.copytree(tmp_path / "debian", tmp_path / "env" / "fashion-mnist")
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    assert both() == (tmp_path / "env" / "fashion-mnist", "$MINIGAN_DATA")  # its <name>/ subfolder
    shutil.copytree(tmp_path / "debian", tmp_path / "env", dirs_exist_ok=True)
    assert both() == (tmp_path / "env", "$MINIGAN_DATA")
    shutil.copytree(tmp_path / "debian", tmp_path / "arg")
    assert both(tmp_path / "arg") == (tmp_path / "arg", "the data_dir argument")
    assert both(tmp_path / "env") == (tmp_path / "env", "the data_dir argument")  # the first step naming it
    assert find("fashion-mnist", "test", tmp_path / "arg") == tmp_path / "arg"
    assert [s for s in datasets.SOURCES if "--" in s] == []  # the library names no command-line flag


def test_locate_per_split_and_nowhere(tmp_path, monkeypatch, isolated):
    make_split(tmp_path / "env", split="test")
    make_split(isolated / "kmnist", split="train")
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    assert locate("kmnist", "test") == (tmp_path / "env", "$MINIGAN_DATA")
    assert locate("kmnist", "train") == (isolated / "kmnist", "the cache")
    assert str(locate("kmnist", "test")) == f"{tmp_path / 'env'} ($MINIGAN_DATA)"
    x, y = load("kmnist", "test", download=False)  # the two-value return is unchanged
    assert x.shape == (20, 1, 28, 28) and y.shape == (20,)
    monkeypatch.delenv("MINIGAN_DATA")  # (its synthetic files would read as a corrupt MNIST)
    assert locate("mnist", "test") is None  # and nothing was downloaded
    assert not (isolated / "mnist").exists()


def test_load_says_downloaded(server, monkeypatch, isolated):
    root, url = server
    _, labels, img_sha, lbl_sha = make_split(root)
    register("kmnist", "test", img_sha, lbl_sha)
    monkeypatch.setitem(datasets.MIRRORS, "kmnist", [url])
    assert locate("kmnist", "test") is None
    x, y, source = load("kmnist", "test", progress=False, with_source=True)
    assert source == (isolated / "kmnist", "downloaded")
    np.testing.assert_array_equal(y, labels)
    assert load("kmnist", "test", download=False, with_source=True)[2] == (isolated / "kmnist", "the cache")


@needs_mnist
def test_locate_real_mnist(monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(MNIST_DIR))
    assert locate("mnist", "test") == (MNIST_DIR, "$MINIGAN_DATA")
    assert locate("mnist", "test", data_dir=MNIST_DIR) == (MNIST_DIR, "the data_dir argument")


@needs_fashion
def test_locate_debian_fashion(monkeypatch):
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": [DEBIAN_FASHION]})
    assert locate("fashion-mnist", "train") == (DEBIAN_FASHION, "Debian's dataset-fashion-mnist")
