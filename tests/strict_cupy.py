"""A strict CuPy stand-in, so the device path runs in every CI run on a CPU machine.

Test-only: it lives under ``tests/`` and is never shipped. It plays CuPy by CuPy's rules
and computes with NumPy underneath, so the same seed gives the same numbers exactly:

* Its ``ndarray`` is a type of its own (not an ``np.ndarray`` subclass) holding a NumPy
  array. Reductions and scalar indexing give 0-d arrays, never Python or NumPy scalars.
* Implicit conversion to NumPy is refused as CuPy refuses it: ``np.asarray(a)``,
  ``np.array(a)`` and ``a.__array__()`` raise ``TypeError``, and so does a NumPy function
  that CuPy does not implement. ``a.get()``, ``asnumpy(a)``, ``a.item()``, ``a.tolist()``
  and ``float``/``int``/``bool`` of a size-1 array work, and each counts as one
  device->host read.
* A NumPy array (or a list) in an operation with a device array raises ``TypeError``
  ("Unsupported type"), as CuPy does. Only ``asarray``/``array``/``ascontiguousarray``,
  indices and assigned values take host data, and each counts as one host->device copy.
* Only names that real CuPy has are exposed (``tests/test_cupy_namespace.py`` checks the
  lists below against the installed CuPy), and every name, method and keyword used is
  recorded, so that test can check what the suite really called.
* ``cuda.Device().synchronize()`` and ``cuda.runtime.getDeviceCount()`` exist; syncs are
  counted.

Where it is stricter than CuPy: no ``__index__`` on 0-d arrays, and lists of numbers are
refused by every function except the creators (CuPy refuses them almost everywhere too).

Use it through the backend's test hook, ``backend.device_module(strict_cupy)``, or the
``xp_backend`` fixture's ``cupy-standin`` parameter.
"""

from __future__ import annotations

import builtins  # the namespace below defines all, any, sum...: the helpers use the real ones
import collections
import sys
import types
from typing import Any

import numpy as np

__version__ = "strict-stand-in"

_IMPLICIT = (
    "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly."
)


# --------------------------------------------------------------------------- the record


class Record:
    """What the suite did on the device: transfers, syncs, and every name and keyword used."""

    def __init__(self) -> None:
        self.reset()
        self.used: set[str] = set()  # "sum", "ndarray.reshape", "add.at", "cuda.Device.synchronize"
        self.keywords: dict[str, set[str]] = collections.defaultdict(set)

    def reset(self) -> None:
        """Zero the counters (not the names used)."""
        self.to_device = 0  # host -> device copies
        self.to_host = 0  # device -> host reads
        self.syncs = 0
        self.ops = 0  # device calls that launch work: a proxy for kernel launches

    def note(self, name: str, kwargs: dict[str, Any] | None = None) -> None:
        self.used.add(name)
        if kwargs:
            self.keywords[name].update(kwargs)

    def merge(self, used: list[str], keywords: dict[str, list[str]]) -> None:
        """Add another process's record (``run_on_standin.py`` writes one with ``STANDIN_RECORD``)."""
        self.used.update(used)
        for k, v in keywords.items():
            self.keywords[k].update(v)

    def counts(self) -> dict[str, int]:
        return {"to_device": self.to_device, "to_host": self.to_host, "syncs": self.syncs, "ops": self.ops}


record = Record()


# --------------------------------------------------------------------------- conversions


def _unsupported(x: Any) -> TypeError:
    return TypeError(f"Unsupported type {type(x)}")


def _is_shape_like(x: Any) -> bool:
    """A tuple/list of ints (or None, slices): shapes, axes, pad widths. Not array data."""
    def ok(v: Any) -> bool:
        if isinstance(v, (tuple, list)):
            return _is_shape_like(v)
        return v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, bool))

    return builtins.all(ok(v) for v in x)


def _dev(x: Any) -> Any:
    """An operand of a device operation -> what NumPy computes with. Refuses host arrays."""
    if type(x) is ndarray:
        return x._a
    if x is None or isinstance(x, (bool, int, float, complex, np.generic, str, np.dtype, type, slice)) or x is Ellipsis:
        return x
    if isinstance(x, (tuple, list)):
        if builtins.all(type(v) is ndarray for v in x) and x:  # a sequence of device arrays (concatenate, stack)
            return type(x)(v._a for v in x)
        if _is_shape_like(x):
            return x
    raise _unsupported(x)


def _host_to_device(x: Any) -> np.ndarray:
    """Host data that CuPy copies to the device (asarray, indices, assigned values)."""
    record.to_device += 1
    return np.array(x)


def _index(key: Any) -> Any:
    """An index: device arrays pass; NumPy arrays and lists are copied to the device, as in CuPy."""
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for k in parts:
        if type(k) is ndarray:
            if k.dtype == np.bool_:
                record.syncs += 1  # a mask's length is read on the host
            out.append(k._a)
        elif isinstance(k, (np.ndarray, list)):
            out.append(_host_to_device(k))
        elif k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer)):
            out.append(k)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`),numpy.newaxis (`None`) and integer or "
                "boolean arrays are valid indices"
            )
    return tuple(out) if isinstance(key, tuple) else out[0]


def _wrap(r: Any) -> Any:
    """NumPy's result -> the stand-in's: arrays and scalars become device arrays."""
    if isinstance(r, np.ndarray):
        out = object.__new__(ndarray)
        out._a = r
        return out
    if isinstance(r, np.generic):
        out = object.__new__(ndarray)
        out._a = np.asarray(r)
        return out
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    return r


def _read(a: ndarray) -> np.ndarray:
    """One device -> host read."""
    record.to_host += 1
    return a._a


# --------------------------------------------------------------------------- ndarray

# ndarray methods real CuPy has (checked by test_cupy_namespace.py) that the stand-in passes
# through to NumPy. Each returns device arrays.
METHODS = (
    "all any argmax argmin astype clip conj copy cumsum diagonal dot fill flatten max mean min "
    "nonzero prod ravel repeat reshape round squeeze std sum swapaxes take trace transpose var view"
).split()
ATTRIBUTES = "shape dtype ndim size itemsize nbytes strides T flags base".split()


def _defers(other: Any) -> bool:
    """CuPy's ``_should_use_rop``: hand the operation to ``other`` (a Tensor, say) when it
    opts out of ufuncs (``__array_ufunc__ = None``) or, having no ``__array_ufunc__``,
    has the higher ``__array_priority__``."""
    if type(other) is ndarray:
        return False
    try:
        return other.__array_ufunc__ is None
    except AttributeError:
        return getattr(other, "__array_priority__", 0) > ndarray.__array_priority__


def _binary(name: str) -> Any:
    op = getattr(np.ndarray, name)
    reflected = name.startswith("__r")

    def method(self: ndarray, other: Any) -> Any:
        if not reflected and _defers(other):
            return NotImplemented
        record.ops += 1
        record.note(f"ndarray.{name}")
        return _wrap(op(self._a, _dev(other)))

    method.__name__ = name
    return method


def _inplace(name: str) -> Any:
    op = getattr(np.ndarray, name)

    def method(self: ndarray, other: Any) -> Any:
        record.ops += 1
        record.note(f"ndarray.{name}")
        self._a = op(self._a, _dev(other))
        return self

    method.__name__ = name
    return method


def _unary(name: str) -> Any:
    op = getattr(np.ndarray, name)

    def method(self: ndarray) -> Any:
        record.ops += 1
        record.note(f"ndarray.{name}")
        return _wrap(op(self._a))

    method.__name__ = name
    return method


class ndarray:  # noqa: N801 - CuPy's name
    """A device array: a NumPy array that refuses to leave implicitly."""

    __slots__ = ("_a",)
    __array_priority__ = 100

    # attributes that cost nothing on the device (metadata lives on the host in CuPy too)
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _wrap(self._a.T))
    base = property(lambda self: None if self._a.base is None else _wrap(self._a.base))

    def __getattr__(self, name: str) -> Any:
        if name in METHODS:
            np_method = getattr(self._a, name)

            def method(*args: Any, **kwargs: Any) -> Any:
                record.ops += 1
                record.note(f"ndarray.{name}", kwargs)
                return _wrap(np_method(*(_dev(a) for a in args), **{k: _dev(v) for k, v in kwargs.items()}))

            return method
        raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")

    # ---- leaving the device: explicit only
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_IMPLICIT)

    def get(self, stream: Any = None, order: str = "C", out: Any = None, blocking: bool = True) -> np.ndarray:
        record.note("ndarray.get")
        return _read(self).copy()

    def item(self) -> Any:
        record.note("ndarray.item")
        return _read(self).item()

    def tolist(self) -> Any:
        record.note("ndarray.tolist")
        return _read(self).tolist()

    def _scalar(self, kind: str) -> Any:
        if self._a.size != 1:
            raise TypeError(f"only size-1 arrays can be converted to Python scalars ({kind})")
        record.note(f"ndarray.__{kind}__")
        return _read(self).item()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
            )
        return bool(self._scalar("bool"))

    def __repr__(self) -> str:
        record.note("ndarray.__repr__")
        return repr(_read(self))

    def __str__(self) -> str:
        record.note("ndarray.__str__")
        return str(_read(self))

    def __format__(self, spec: str) -> str:
        record.note("ndarray.__format__")
        return format(_read(self).item() if self._a.ndim == 0 else _read(self), spec)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (_wrap(self._a[i]) for i in range(len(self._a)))

    __hash__ = None  # type: ignore[assignment]

    # ---- indexing
    def __getitem__(self, key: Any) -> ndarray:
        record.note("ndarray.__getitem__")
        r = self._a[_index(key)]
        return _wrap(r)

    def __setitem__(self, key: Any, value: Any) -> None:
        record.ops += 1
        record.note("ndarray.__setitem__")
        if isinstance(value, (np.ndarray, list)):
            value = _host_to_device(value)
        self._a[_index(key)] = _dev(value) if not isinstance(value, np.ndarray) else value

    # ---- NumPy protocols: CuPy's rules
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        name = ufunc.__name__
        if name not in UFUNCS:
            return NotImplemented
        target = getattr(sys.modules[__name__], name)
        if method != "__call__":
            return getattr(target, method)(*inputs, **kwargs)
        return target(*inputs, **kwargs)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        name = func.__name__  # as CuPy: NumPy's function if CuPy has one of that name, else refused
        if name in FUNCTIONS or name in UFUNCS or name in CREATORS:
            return getattr(sys.modules[__name__], name)(*args, **kwargs)
        return NotImplemented


_BINARY = (
    "__add__ __sub__ __mul__ __truediv__ __floordiv__ __mod__ __pow__ __matmul__ "
    "__lt__ __le__ __gt__ __ge__ __eq__ __ne__ __and__ __or__ __xor__"
).split()
for _name in _BINARY:
    setattr(ndarray, _name, _binary(_name))
    _r = "__r" + _name[2:]
    if hasattr(np.ndarray, _r):
        setattr(ndarray, _r, _binary(_r))
for _name in "__iadd__ __isub__ __imul__ __itruediv__ __ipow__ __imod__ __ifloordiv__ __iand__ __ior__".split():
    setattr(ndarray, _name, _inplace(_name))
for _name in "__neg__ __pos__ __abs__ __invert__".split():
    setattr(ndarray, _name, _unary(_name))


# --------------------------------------------------------------------------- the namespace

# Functions real CuPy has that the stand-in passes through to NumPy. Inputs must be device
# arrays or scalars; outputs are device arrays.
FUNCTIONS = (
    "abs absolute all allclose amax amin any arange argmax argmin argsort array_equal atleast_1d atleast_2d "
    "broadcast_arrays broadcast_to clip concatenate copy count_nonzero cumsum diag diff dot einsum "
    "empty empty_like expand_dims eye flip full full_like histogram isclose isfinite isinf isnan "
    "linspace matmul mean median moveaxis nan_to_num ones ones_like outer pad percentile prod ravel repeat reshape "
    "roll searchsorted sort split sqrt squeeze stack std sum swapaxes take tensordot tile trace transpose "
    "tril triu unique var vstack hstack where zeros zeros_like linalg.norm"
).split()
# Functions that take host data and copy it to the device.
CREATORS = "asarray array ascontiguousarray".split()
UFUNCS = (
    "add subtract multiply divide true_divide floor_divide negative power remainder mod maximum minimum fmax fmin "
    "exp expm1 exp2 log log1p log2 log10 sqrt square cbrt sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh "
    "arctanh sign absolute fabs floor ceil rint trunc hypot logaddexp greater greater_equal less less_equal equal "
    "not_equal logical_and logical_or logical_not logical_xor isfinite isinf isnan signbit copysign reciprocal "
    "bitwise_and bitwise_or clip"
).split()
UFUNCS = [u for u in UFUNCS if u != "clip"]  # clip is a function in CuPy
UFUNC_METHODS = "at reduce accumulate outer".split()
# Names that are NumPy's own objects in CuPy too (dtypes and constants).
CONSTANTS = (
    "float16 float32 float64 int8 int16 int32 int64 uint8 uint32 uint64 bool_ complex64 complex128 intp "
    "dtype newaxis pi e inf nan finfo iinfo result_type can_cast issubdtype floating integer number"
).split()


def _function(name: str, np_fn: Any) -> Any:
    def f(*args: Any, **kwargs: Any) -> Any:
        record.ops += 1
        record.note(name, kwargs)
        return _wrap(np_fn(*(_dev(a) for a in args), **{k: _dev(v) for k, v in kwargs.items()}))

    f.__name__ = name.rsplit(".", 1)[-1]
    f.__qualname__ = name
    return f


class ufunc:  # noqa: N801 - CuPy's name
    """A CuPy ufunc: called, or ``.at`` / ``.reduce`` / ``.accumulate`` / ``.outer``."""

    def __init__(self, name: str) -> None:
        self.__name__ = name
        self._np = getattr(np, name)
        self.nin, self.nout = self._np.nin, self._np.nout

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        record.ops += 1
        record.note(self.__name__, kwargs)
        out = kwargs.get("out")
        kwargs = {k: _dev(v) for k, v in kwargs.items()}
        if out is not None:
            if type(out) is not ndarray:
                raise TypeError(f"Output argument must be cupy.ndarray, not {type(out)}")
            self._np(*(_dev(a) for a in args), **kwargs)
            return out
        return _wrap(self._np(*(_dev(a) for a in args), **kwargs))

    def at(self, a: ndarray, indices: Any, b: Any = None) -> None:
        record.ops += 1
        record.note(f"{self.__name__}.at")
        if type(a) is not ndarray:
            raise _unsupported(a)
        if b is None:
            self._np.at(a._a, _index(indices))
        else:
            self._np.at(a._a, _index(indices), _dev(b))

    def _method(self, method: str, *args: Any, **kwargs: Any) -> Any:
        record.ops += 1
        record.note(f"{self.__name__}.{method}", kwargs)
        return _wrap(getattr(self._np, method)(*(_dev(a) for a in args), **{k: _dev(v) for k, v in kwargs.items()}))

    def reduce(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("reduce", *args, **kwargs)

    def accumulate(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("accumulate", *args, **kwargs)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("outer", *args, **kwargs)

    def __repr__(self) -> str:
        return f"<ufunc 'cupy_{self.__name__}' (strict stand-in)>"


def _creator(name: str) -> Any:
    np_fn = getattr(np, name)

    def f(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
        record.note(name, kwargs)
        if type(a) is ndarray:
            record.ops += 1
            if name == "asarray" and (dtype is None or np.dtype(dtype) == a.dtype):
                return a
            return _wrap(np_fn(a._a, dtype=dtype, **kwargs))
        if isinstance(a, (list, tuple)) and a and builtins.all(type(v) is ndarray for v in a):
            record.ops += 1
            return _wrap(np_fn(np.stack([v._a for v in a]), dtype=dtype, **kwargs))
        record.to_device += 1
        return _wrap(np.array(np_fn(a, dtype=dtype, **kwargs), copy=True))

    f.__name__ = name
    return f


def asnumpy(a: Any, stream: Any = None, order: str = "C", out: Any = None, blocking: bool = True) -> np.ndarray:
    """Device -> host (NumPy arrays pass through, as in CuPy)."""
    record.note("asnumpy")
    if type(a) is ndarray:
        return _read(a).copy()
    return np.asarray(a)


def get_array_module(*args: Any) -> types.ModuleType:
    record.note("get_array_module")
    return sys.modules[__name__] if builtins.any(type(a) is ndarray for a in args) else np


def is_available() -> bool:
    record.note("is_available")
    return True


_here = sys.modules[__name__]
for _name in UFUNCS:
    setattr(_here, _name, ufunc(_name))
linalg = types.ModuleType(__name__ + ".linalg")
for _name in FUNCTIONS:
    if _name in UFUNCS:
        continue
    if "." in _name:
        _sub, _fn = _name.split(".")
        setattr(getattr(_here, _sub), _fn, _function(_name, getattr(getattr(np, _sub), _fn)))
    else:
        setattr(_here, _name, _function(_name, getattr(np, _name)))
for _name in CREATORS:
    setattr(_here, _name, _creator(_name))
for _name in CONSTANTS:
    setattr(_here, _name, getattr(np, _name))

# cupy.lib.stride_tricks
lib = types.ModuleType(__name__ + ".lib")
lib.stride_tricks = types.ModuleType(__name__ + ".lib.stride_tricks")


def _as_strided(x: ndarray, shape: Any = None, strides: Any = None) -> ndarray:
    record.note("lib.stride_tricks.as_strided")
    if type(x) is not ndarray:
        raise _unsupported(x)
    return _wrap(np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides, writeable=True))


def _sliding_window_view(x: ndarray, window_shape: Any, axis: Any = None, **kwargs: Any) -> ndarray:
    record.note("lib.stride_tricks.sliding_window_view", kwargs)
    if type(x) is not ndarray:
        raise _unsupported(x)
    return _wrap(np.lib.stride_tricks.sliding_window_view(x._a, window_shape, axis=axis, **kwargs))


lib.stride_tricks.as_strided = _as_strided
lib.stride_tricks.sliding_window_view = _sliding_window_view


# cupy.cuda: one device, synchronisation counted
class _Device:
    def __init__(self, device: int = 0) -> None:
        self.id = device

    def synchronize(self) -> None:
        record.note("cuda.Device.synchronize")
        record.syncs += 1

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class _Stream:
    def synchronize(self) -> None:
        record.note("cuda.Stream.synchronize")
        record.syncs += 1


def _get_device_count() -> int:
    record.note("cuda.runtime.getDeviceCount")
    return 1


cuda = types.ModuleType(__name__ + ".cuda")
cuda.Device = _Device
cuda.Stream = _Stream
cuda.Stream.null = _Stream()
cuda.get_current_stream = lambda: _Stream()
def _get_device_properties(device: int) -> dict[str, Any]:
    record.note("cuda.runtime.getDeviceProperties")
    return {"name": b"strict CuPy stand-in (NumPy on the CPU)", "totalGlobalMem": 0}


cuda.runtime = types.SimpleNamespace(getDeviceCount=_get_device_count, getDeviceProperties=_get_device_properties)

# Everything exposed, for the namespace check against real CuPy.
EXPOSED = sorted(
    set(FUNCTIONS) | set(CREATORS) | set(UFUNCS) | set(CONSTANTS)
    | {"ndarray", "ufunc", "asnumpy", "get_array_module", "is_available", "lib.stride_tricks.as_strided",
       "lib.stride_tricks.sliding_window_view", "cuda.Device", "cuda.Stream", "cuda.get_current_stream",
       "cuda.runtime.getDeviceCount", "cuda.runtime.getDeviceProperties"}
)

del _name, _r, _here
