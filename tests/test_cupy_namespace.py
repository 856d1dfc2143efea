"""Everything minigan calls on device arrays exists in the installed CuPy, with those keywords.

CuPy installs and imports on a machine without a GPU (``cupy.is_available()`` is False there), so
this runs in CI: ``.ci/run`` installs the ``cuda`` extra's wheel. What is checked comes from the
strict stand-in itself: the names it exposes (it exposes no other, so code using a name CuPy lacks
fails on the stand-in) and its record of what the suite called, with which keywords. conftest runs
this file last, so the record holds the whole suite's calls (the lessons' subprocesses included).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
import strict_cupy

import minigan
from minigan import backend
from minigan.gan import config
from minigan.gan.run import Run

cupy = pytest.importorskip("cupy", reason="CuPy is not installed here (pip install cupy-cuda12x or cupy-cuda13x)")


def _resolve(root: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def _real(name: str) -> Any:
    """The real CuPy object a record entry names: 'sum', 'ndarray.reshape', 'add.at', 'cuda.Device.synchronize'."""
    if name.startswith("ndarray."):
        return getattr(cupy.ndarray, name.split(".", 1)[1])
    if name.startswith("cuda.Device."):
        return getattr(cupy.cuda.Device, name.rsplit(".", 1)[1])
    if name.startswith("cuda.Stream."):
        return getattr(cupy.cuda.Stream, name.rsplit(".", 1)[1])
    return _resolve(cupy, name)


def _keywords(obj: Any) -> set[str] | None:
    """The keyword names ``obj`` accepts, or None for "any" (**kwargs). From its signature, or from
    the first line of its docstring where Cython hides the signature (ufuncs, ndarray methods)."""
    try:
        params = inspect.signature(obj).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return None
        return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    except (TypeError, ValueError):
        pass
    doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    m = re.match(r"[\w.]*\((.*)\)", doc[0]) if doc else None
    if not m:
        raise AssertionError(f"cannot read the keywords of {obj!r}: no signature and no docstring signature")
    names = set()
    for part in m.group(1).replace("\\*", "*").split(","):
        part = part.strip()
        if part.startswith("**"):
            return None
        name = part.split("=")[0].strip().lstrip("*")
        if name and name not in ("/", "self"):
            names.add(name)
    return names


def _a_small_workload() -> None:
    """A few steps of the two models on the stand-in, so this file alone still checks real calls."""
    import tempfile

    with backend.device_module(strict_cupy):
        for given in ({"dataset": "ring8"}, {"dataset": "ring8", "loss": "wgan-gp", "d_steps": 1}):
            with tempfile.TemporaryDirectory() as out:
                cfg = config.resolve({**given, "backend": "cupy", "batch_size": 8, "steps": 2, "sample_every": 2,
                                      "out": out})
                Run.start(cfg).train()
        minigan.use("numpy")


def test_every_name_the_standin_exposes_exists_in_cupy():
    missing = [n for n in strict_cupy.EXPOSED if not _has(cupy, n)]
    assert not missing, f"the stand-in exposes names real CuPy {cupy.__version__} lacks: {missing}"
    missing = [n for n in strict_cupy.METHODS + strict_cupy.ATTRIBUTES if not hasattr(cupy.ndarray, n)]
    assert not missing, f"cupy.ndarray lacks: {missing}"
    missing = [f"{u}.{m}" for u in strict_cupy.UFUNCS for m in strict_cupy.UFUNC_METHODS
               if not hasattr(getattr(cupy, u), m)]
    assert not missing, f"CuPy's ufuncs lack: {missing}"


def _has(root: Any, dotted: str) -> bool:
    try:
        _resolve(root, dotted)
        return True
    except AttributeError:
        return False


def test_every_call_the_suite_made_on_the_device_exists_in_cupy_with_its_keywords():
    _a_small_workload()
    used = sorted(strict_cupy.record.used)
    assert len(used) >= 30, used  # the record is live: a training run alone calls dozens of names
    missing = [n for n in used if not _has_real(n)]
    assert not missing, f"minigan calls, on device arrays, names CuPy {cupy.__version__} lacks: {missing}"
    wrong = []
    for name, kws in sorted(strict_cupy.record.keywords.items()):
        accepted = _keywords(_real(name))
        if accepted is not None and not kws <= accepted:
            wrong.append(f"{name}({', '.join(sorted(kws - accepted))}=...)")
    assert not wrong, f"minigan passes keywords CuPy {cupy.__version__} does not accept: {wrong}"


def _has_real(name: str) -> bool:
    try:
        _real(name)
        return True
    except AttributeError:
        return False


def test_the_keyword_reader_reads_cupys_signatures():
    """The check above is only as good as this: it must see CuPy's real keywords, and refuse a wrong one."""
    assert {"axis", "dtype", "out", "keepdims"} <= _keywords(cupy.sum)
    assert {"out", "dtype", "casting"} <= _keywords(cupy.exp)  # a ufunc: from the docstring
    assert {"axis", "keepdims"} <= _keywords(cupy.ndarray.sum)  # a Cython method: from the docstring
    assert "keepdim" not in _keywords(cupy.ndarray.sum)
