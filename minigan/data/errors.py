"""The two errors the data layer raises: bad data, and no data at all."""

from __future__ import annotations

__all__ = ["DataError", "DataNotFoundError"]


class DataError(ValueError):
    """A data file is truncated, corrupt, of the wrong dataset, or not in IDX format.

    The message is one sentence that names the file, what was expected, what was
    found, and the fix.
    """


class DataNotFoundError(DataError):
    """A dataset is in none of the places looked in, and could not be downloaded."""
