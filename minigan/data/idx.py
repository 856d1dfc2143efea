"""IDX, the file format of MNIST, Fashion-MNIST and KMNIST, read and written with NumPy.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
values in C order (big-endian)::

    magic = 0x00 0x00 <type code> <ndim>     e.g. 0x00000803: uint8, 3 dims (N, 28, 28)
    dims  = ndim x uint32                     e.g. 10000, 28, 28
    data  = prod(dims) values                 e.g. 7,840,000 bytes of pixels

Files ending in ``.gz`` are gzip-compressed (how the datasets are published).
Every way a file can be broken raises :class:`DataError` with one sentence, never a
reshape traceback from deep inside NumPy.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from minigan.data.errors import DataError

__all__ = ["read_idx", "write_idx", "read_bytes", "parse_idx", "IDX_DTYPES", "DataError"]

# Type code (third magic byte) -> dtype as stored in the file (big-endian).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"

FIX = "delete it and run again to download a fresh copy"


def _bad(source: object, expected: str, found: str, fix: str = FIX) -> DataError:
    return DataError(f"{source} is not a valid IDX file: expected {expected}, found {found}; {fix}.")


def read_bytes(path: str | os.PathLike, source: object = None, fix: str = FIX) -> bytes:
    """The file's bytes, decompressed when it is gzip (``.gz`` name or gzip header).

    ``source`` names the file in error messages (default: ``path``), ``fix`` says what
    to do. Raises DataError when a ``.gz`` file is not gzip, or is truncated or corrupt.
    """
    path = Path(path)
    raw = path.read_bytes()
    if source is None:
        source = path
    if raw[:2] != _GZIP_MAGIC:
        if path.name.endswith(".gz"):
            found = raw[:2].hex(" ") or "an empty file"
            raise DataError(f"{source} is not a gzip file: expected the gzip header 1f 8b, found {found}; {fix}.")
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(
            f"{source} is a truncated gzip file: expected the end of the compressed stream, found the end of the file "
            f"after {len(raw)} bytes; {fix}."
        ) from None
    except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(
            f"{source} is a corrupt gzip file: expected valid gzip data, found an error ({e}); {fix}."
        ) from None


def parse_idx(data: bytes, source: object = "<bytes>", copy: bool = True, fix: str = FIX) -> np.ndarray:
    """IDX bytes -> array of shape ``dims`` in native byte order.

    ``source`` names the file in error messages, ``fix`` says what to do. Checks the magic number, the header
    length and that the payload holds exactly ``prod(dims) * itemsize`` bytes. With
    ``copy=False`` a uint8/int8 result is a read-only view of ``data`` (no copy).
    """
    if len(data) < 4:
        raise _bad(source, "a 4-byte magic number", f"{len(data)} bytes in all", fix)
    if data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES or data[3] == 0:
        codes = "/".join(f"{c:02X}" for c in IDX_DTYPES)
        raise _bad(
            source,
            f"a magic number 0x0000TTNN with type TT in {codes} and NN >= 1 dimensions",
            f"0x{data[:4].hex().upper()}",
            fix,
        )
    dtype, ndim = IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise _bad(source, f"a {header}-byte header for {ndim} dimensions", f"{len(data)} bytes in all", fix)
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    count = math.prod(dims)
    payload = len(data) - header
    if payload != count * dtype.itemsize:
        what = "truncated" if payload < count * dtype.itemsize else "too long"
        raise _bad(
            source,
            f"{count * dtype.itemsize} bytes of {dtype.newbyteorder('=').name} data for dimensions {dims}",
            f"{payload} bytes (the file is {what})",
            fix,
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=copy)  # native byte order; a copy is writable


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or ``.gz``) -> array of shape ``dims``, e.g. uint8 (N, 28, 28).

    Raises DataError, naming the file, for any truncated, corrupt or non-IDX file.
    """
    return parse_idx(read_bytes(path), source=Path(path))


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    dtype must be one IDX can hold: uint8, int8, int16, int32, float32 or float64.
    """
    path = Path(path)
    a = np.asarray(array)
    code = _CODES.get(a.dtype.newbyteorder("="))
    if code is None:
        names = ", ".join(dt.newbyteorder("=").name for dt in IDX_DTYPES.values())
        raise ValueError(f"IDX cannot store dtype {a.dtype}: convert the array to one of {names} first.")
    if not 1 <= a.ndim <= 255:
        raise ValueError(f"IDX stores arrays of 1 to 255 dimensions, and this one has {a.ndim}: reshape it first.")
    if any(d >= 2**32 for d in a.shape):
        raise ValueError(f"IDX stores each dimension in 32 bits, and shape {a.shape} has one that does not fit.")
    data = (
        bytes([0, 0, code, a.ndim])
        + np.asarray(a.shape, dtype=">u4").tobytes()
        + np.ascontiguousarray(a, dtype=IDX_DTYPES[code]).tobytes()
    )
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)  # mtime=0: the same array gives the same bytes
    path.write_bytes(data)
    return path
