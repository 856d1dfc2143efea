"""IDX reading and writing: round trips, and one clear DataError for every way a file can be broken."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from minigan.data import DataError, read_idx, write_idx
from minigan.data.idx import parse_idx, read_bytes

# The real MNIST test set (DESIGN.md: ../shared/data/mnist/ from the repository root, or $MINIGAN_DATA).
_ROOT = Path(__file__).resolve().parents[1]
# $MINIGAN_DATA (itself or its mnist/ subfolder, as the loader looks), else ../shared/data/mnist.
_ENV = os.environ.get("MINIGAN_DATA")
_MNIST_CANDIDATES = [
    *((Path(_ENV), Path(_ENV) / "mnist") if _ENV else ()),
    _ROOT.parent / "shared/data/mnist",
    _ROOT / "shared/data/mnist",
]
MNIST_DIR = next((d for d in _MNIST_CANDIDATES if (d / "t10k-images-idx3-ubyte.gz").is_file()), _MNIST_CANDIDATES[0])


def assert_one_line(err: pytest.ExceptionInfo, *parts: str) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, (part, msg)
    return msg


def idx_bytes(shape, code=0x08, payload=None):
    header = bytes([0, 0, code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()
    if payload is None:
        payload = bytes(int(np.prod(shape)))
    return header + payload


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "dtype, shape",
    [
        (np.uint8, (5, 28, 28)),
        (np.int8, (7,)),
        (np.int16, (3, 4)),
        (np.int32, (2, 3, 4)),
        (np.float32, (6, 2)),
        (np.float64, (1, 1, 1, 3)),
    ],
)
def test_round_trip(tmp_path, rng, dtype, shape, suffix):
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    path = write_idx(tmp_path / f"a-idx{len(shape)}{suffix}", a)
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    assert b.shape == shape
    np.testing.assert_array_equal(b, a)
    b[...] = 0  # a writable copy, not a view of the file's bytes


def test_header_is_big_endian_idx(tmp_path):
    a = np.array([[1, 256], [65536, -1]], dtype=np.int32)
    data = write_idx(tmp_path / "x.idx", a).read_bytes()
    assert data[:4] == bytes([0, 0, 0x0C, 2])
    assert data[4:12] == bytes([0, 0, 0, 2, 0, 0, 0, 2])
    assert data[12:16] == bytes([0, 0, 0, 1])
    assert data[-4:] == b"\xff\xff\xff\xff"
    assert len(data) == 12 + 4 * 4


def test_gz_output_is_gzip_and_deterministic(tmp_path):
    a = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    p1 = write_idx(tmp_path / "one.gz", a)
    p2 = write_idx(tmp_path / "two.gz", a)
    assert p1.read_bytes()[:2] == b"\x1f\x8b"
    assert p1.read_bytes() == p2.read_bytes()
    assert gzip.decompress(p1.read_bytes())[:4] == bytes([0, 0, 8, 3])


def test_gzip_content_under_a_raw_name_is_decompressed(tmp_path):
    a = np.arange(10, dtype=np.uint8)
    raw = tmp_path / "labels-idx1-ubyte"
    raw.write_bytes(gzip.compress(idx_bytes((10,), payload=a.tobytes())))
    np.testing.assert_array_equal(read_idx(raw), a)


def test_write_rejects_dtypes_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="cannot store dtype int64"):
        write_idx(tmp_path / "x", np.arange(3))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_truncated_file(tmp_path, suffix):
    path = write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", np.ones((4, 28, 28), np.uint8))
    raw = gzip.decompress(path.read_bytes()) if suffix else path.read_bytes()
    cut = raw[:-100]
    path.write_bytes(gzip.compress(cut) if suffix else cut)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(
        err,
        str(path),
        "expected 3136 bytes of uint8 data for dimensions (4, 28, 28)",
        "found 3036 bytes",
        "truncated",
        "delete it and run again",
    )


def test_payload_too_long(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(idx_bytes((3,)) + b"\x00")
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, str(path), "expected 3 bytes", "found 4 bytes", "too long")


def test_wrong_dims(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes((10, 28, 28), payload=bytes(9 * 28 * 28)))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, str(path), "expected 7840 bytes", "(10, 28, 28)", "found 7056 bytes")


def test_truncated_gzip_stream(tmp_path):
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(5000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, str(path), "truncated gzip file", "delete it and run again")


def test_corrupt_gzip_stream(tmp_path, rng):
    path = write_idx(tmp_path / "x.gz", rng.integers(0, 255, size=(50, 28, 28)).astype(np.uint8))
    data = bytearray(path.read_bytes())
    data[30:60] = bytes(30)
    path.write_bytes(bytes(data))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, str(path), "gzip file", "expected", "found")


def test_not_gzip(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_text("<html>404 Not Found</html>")
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, str(path), "is not a gzip file", "expected the gzip header 1f 8b", "found 3c 68")


def test_empty_gz_file(tmp_path):
    path = tmp_path / "empty.gz"
    path.write_bytes(b"")
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, "empty.gz", "found an empty file")


@pytest.mark.parametrize(
    "magic, found",
    [(b"\x01\x00\x08\x03", "0x01000803"), (b"\x00\x00\x0a\x01", "0x00000A01"), (b"\x00\x00\x08\x00", "0x00000800")],
)
def test_bad_magic(tmp_path, magic, found):
    path = tmp_path / "bad-idx"
    path.write_bytes(magic + bytes(64))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, str(path), "magic number", found)


def test_too_short_for_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00\x08\x03" + bytes(5))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, str(path), "a 16-byte header for 3 dimensions", "found 9 bytes")
    with pytest.raises(DataError, match="4-byte magic number"):
        parse_idx(b"\x00\x00")


def test_read_bytes_names_source(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"nope")
    with pytest.raises(DataError, match="^http://example/x.gz is not a gzip file"):
        read_bytes(path, source="http://example/x.gz")


def test_real_mnist_test_labels():
    path = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
    if not path.is_file():
        pytest.skip(f"the real MNIST test files are not in {MNIST_DIR} (set MINIGAN_DATA to their folder)")
    labels = read_idx(path)
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
