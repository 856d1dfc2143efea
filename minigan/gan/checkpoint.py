"""Checkpoints: a training run's whole state in one NumPy ``.npz`` file.

What a run needs to continue exactly where it stopped: G's and D's weights and buffers,
both optimizers' states, the run's random generator, the data loader's position, the
step count and the config. Arrays are stored as arrays under '/'-joined names
(``G/body.0.weight``, ``opt_d/state/3/exp_avg``); everything else (numbers, strings,
the generator's state) as one JSON string. So the file loads with
``allow_pickle=False``: opening a checkpoint never runs code from it.

Writing is atomic: the file is written beside its final name and then renamed, so a
run killed mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CheckpointError", "save", "load", "flatten", "unflatten"]

FORMAT = "minigan-checkpoint-1"
_RESERVED = ("__meta__", "file", "allow_pickle")  # names np.savez(file, allow_pickle=..., **arrays) takes


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or not a minigan checkpoint."""


def flatten(tree: Any, prefix: str = "") -> tuple[dict[str, np.ndarray], Any]:
    """Split a nest of dicts/lists into (arrays by path, the JSON-able rest with placeholders)."""
    arrays: dict[str, np.ndarray] = {}

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, np.ndarray):
            if path in arrays or path in _RESERVED:
                # {"a/b": x, "a": {"b": y}} would keep only one of the two; np.savez takes the reserved names itself.
                raise ValueError(
                    f"Cannot save an array as {path!r}: another array or np.savez has that name; rename the key."
                )
            arrays[path] = node
            return {"__array__": path}
        if isinstance(node, dict):
            return {str(k): walk(v, f"{path}/{k}" if path else str(k)) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{path}/{i}" if path else str(i)) for i, v in enumerate(node)]
        if isinstance(node, np.generic):
            return node.item()
        return node

    return arrays, walk(tree, prefix)


def unflatten(skeleton: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The inverse of ``flatten``."""
    if isinstance(skeleton, dict):
        if set(skeleton) == {"__array__"}:
            return arrays[skeleton["__array__"]]
        return {k: unflatten(v, arrays) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [unflatten(v, arrays) for v in skeleton]
    return skeleton


def save(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (nested dicts/lists of host NumPy arrays and JSON values) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays, skeleton = flatten(state)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, __meta__=np.array(json.dumps({"format": FORMAT, "state": skeleton})), **arrays)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write leaves the previous checkpoint and no half-written file
        raise
    os.replace(tmp, path)  # atomic on POSIX and Windows: readers see the old file or the new one
    return path


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by ``save`` (with ``allow_pickle=False``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}: give the run folder of a run that saved one.")
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["__meta__"]))
            arrays = {k: f[k] for k in f.files if k != "__meta__"}
    # TypeError: a lone .npy array loads as an ndarray, which is not a context manager
    except PermissionError as e:
        raise CheckpointError(f"{path} cannot be read ({e.strerror}): give this user read access to it.") from None
    # NumPy's own reason is left out: for random bytes it advises allow_pickle=, which must never be the fix.
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, json.JSONDecodeError, EOFError):
        raise CheckpointError(
            f"{path} is not a readable minigan checkpoint (it is damaged, cut short or another kind of file): "
            "delete it to start afresh, or resume from another run."
        ) from None
    fmt = meta.get("format") if isinstance(meta, dict) else None  # __meta__ may hold any JSON, e.g. a list
    if fmt != FORMAT:
        raise CheckpointError(f"{path} is not a minigan checkpoint (format {fmt!r}, not {FORMAT!r}).")
    return unflatten(meta["state"], arrays)
