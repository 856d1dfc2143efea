"""Mini-batches from host arrays, shuffled by the run's generator, resumable to the batch.

One epoch is one pass over a permutation of the N examples, cut into batches::

    perm = rng.permutation(N)          # a new one per epoch (arange(N) without shuffle)
    batch b = arrays[perm[b*B : (b+1)*B]]

The loader's whole state is (epoch, position in the epoch, perm): saved with
``state_dict()`` next to the run's generator, it lets a checkpointed run go on with
exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from minigan import backend

__all__ = ["DataLoader"]


class DataLoader:
    """Batches of ``arrays`` (host NumPy arrays, same first dimension N) on the current backend.

    Iterating gives one epoch: ``len(loader)`` batches, each a backend array (or a tuple
    of them when several arrays were given), dtypes unchanged. An epoch left unfinished
    is continued by the next iteration. ``batches()`` gives epochs back to back, forever.
    ``generator`` defaults to the run's (``minigan.backend.generator()``, read when an
    epoch starts, so ``manual_seed`` after construction still applies).
    """

    def __init__(
        self,
        *arrays: np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        drop_last: bool = True,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not arrays:
            raise ValueError("DataLoader needs at least one array, e.g. DataLoader(x, y, batch_size=64).")
        for a in arrays:
            if not isinstance(a, np.ndarray):
                raise TypeError(
                    f"DataLoader takes host NumPy arrays, got {type(a).__name__}: pass the data as loaded "
                    f"(np.asarray(...) or minigan.backend.to_numpy(...)); it sends each batch to the backend."
                )
            if a.ndim == 0:
                raise ValueError("DataLoader got a 0-d array: every array needs a first dimension of examples.")
        n = len(arrays[0])
        if any(len(a) != n for a in arrays):
            raise ValueError(
                f"DataLoader arrays must have the same first dimension (one row per example), got "
                f"{[len(a) for a in arrays]}."
            )
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        batch_size = int(batch_size)
        if drop_last and batch_size > n:
            raise ValueError(
                f"batch_size={batch_size} is larger than the dataset ({n} examples), so with drop_last=True an epoch "
                f"would have no batch: use batch_size <= {n} or drop_last=False."
            )
        self.arrays = arrays
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.n = n
        self.epoch = 0  # epochs completed = index of the current epoch
        self._position = 0  # batches already given in the current epoch
        self._perm: np.ndarray | None = None  # None: the next batch starts a new epoch

    def __len__(self) -> int:
        """Batches per epoch: N // B with drop_last, else ceil(N / B)."""
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def _start_epoch(self) -> None:
        if self.shuffle:
            rng = self.generator if self.generator is not None else backend.generator()
            self._perm = rng.permutation(self.n)
        else:
            self._perm = np.arange(self.n)
        self._position = 0

    def _batch(self, index: np.ndarray) -> Any:
        b = backend.current()
        out = tuple(b.asarray(a[index]) for a in self.arrays)
        return out[0] if len(out) == 1 else out

    def __iter__(self) -> Iterator[Any]:
        """One epoch of batches (the rest of the current epoch if one was left unfinished)."""
        if self._perm is None:
            self._start_epoch()
        while self._position < len(self):
            start = self._position * self.batch_size
            index = self._perm[start : start + self.batch_size]
            self._position += 1  # counted before the yield: a state saved now excludes this batch
            yield self._batch(index)
        self.epoch += 1
        self._perm = None
        self._position = 0

    def batches(self) -> Iterator[Any]:
        """Batches forever, epoch after epoch, a new permutation per epoch (for step-based training)."""
        while True:
            yield from self

    def state_dict(self) -> dict[str, Any]:
        """Where the loader is: ints ``epoch``, ``position``, ``n``, ``batch_size`` and int64 array ``perm``.

        ``perm`` is empty between epochs. Save it with the run's generator state: the
        next epoch's permutation is drawn from that generator.
        """
        epoch, position, perm = self.epoch, self._position, self._perm
        if perm is not None and position >= len(self):  # last batch given: the epoch is over
            epoch, position, perm = epoch + 1, 0, None
        perm = np.empty(0, dtype=np.int64) if perm is None else perm.astype(np.int64)
        return {
            "epoch": int(epoch),
            "position": int(position),
            "n": int(self.n),
            "batch_size": int(self.batch_size),
            "perm": perm,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state_dict()``'s state: the next batch is the one that came next then."""
        n, bs = int(state["n"]), int(state["batch_size"])
        if n != self.n or bs != self.batch_size:
            raise ValueError(
                f"This loader state is for {n} examples in batches of {bs}, but this loader has {self.n} examples in "
                f"batches of {self.batch_size}: build the loader with the same data and batch_size as the saved run."
            )
        perm = np.asarray(state["perm"], dtype=np.int64)
        position = int(state["position"])
        if len(perm) not in (0, self.n) or not 0 <= position <= len(self) or (len(perm) == 0 and position != 0):
            raise ValueError(
                f"This loader state is inconsistent (perm of length {len(perm)}, position {position}, "
                f"{len(self)} batches per epoch): it was not saved by DataLoader.state_dict()."
            )
        self.epoch = int(state["epoch"])
        self._position = position
        self._perm = perm.copy() if len(perm) else None

    def __repr__(self) -> str:
        return (
            f"DataLoader(n={self.n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, epoch={self.epoch})"
        )
