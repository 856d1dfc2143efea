"""The base of every layer: ``Parameter``, ``Module`` (``torch.nn.Module``) and three contexts.

A ``Module`` is a function with state. Assigning a ``Parameter``, a sub-``Module``
or a buffer (``register_buffer``) to an attribute registers it, so
``parameters()``, ``state_dict()``, ``train()`` and ``zero_grad()`` find everything
without a list kept by hand. The layers themselves are in ``minigan.nn``.

The contexts change a module for the length of a ``with`` block and put it back after,
also when the block raises:

- ``frozen(m)``: m's parameters get no gradient (gradients still flow *through* m);
- ``evaluating(m)``: m runs in eval mode (BatchNorm's running statistics, no Dropout);
- ``substituted(m, weights)``: m computes with other tensors in place of its parameters
  (a functional call, as ``torch.func.functional_call``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from minigan import backend
from minigan.autograd import Tensor

__all__ = ["Parameter", "Module", "frozen", "evaluating", "substituted", "LoadResult"]


class Parameter(Tensor):
    """A leaf tensor that a Module registers as one of its weights; requires_grad=True by default.

    ``Parameter(data)`` keeps ``data`` where it is (NumPy or CuPy); layers make theirs on
    the current backend.
    """

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _host_copy(a: Any) -> np.ndarray:
    host = backend.to_numpy(a)
    return host.copy() if host is a else host  # from the GPU it is already a fresh copy


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """The base class of every layer and model: subclass it, assign layers in ``__init__``, define ``forward``.

    ``module(x)`` calls ``module.forward(x)``. ``training`` is True after ``train()``
    (the default) and False after ``eval()``; BatchNorm and Dropout read it.
    """

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Module, Tensor)):
                raise AttributeError(
                    f"Cannot assign {name!r} before Module.__init__() ran: call super().__init__() first "
                    f"in {type(self).__name__}.__init__."
                )
            object.__setattr__(self, name, value)
        elif isinstance(value, Parameter):
            self._forget(name, keep="_parameters")
            d["_parameters"][name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            d["_modules"][name] = value
        elif name in d["_parameters"]:
            if value is not None:
                raise TypeError(
                    f"Cannot assign a {type(value).__name__} to parameter {name!r}: wrap it in "
                    "nn.Parameter(...), or change the values in place through .data."
                )
            d["_parameters"][name] = None
        elif name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"Cannot assign a {type(value).__name__} to buffer {name!r}: assign a Tensor or None.")
            d["_buffers"][name] = value
        elif name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"Cannot assign a {type(value).__name__} to sub-module {name!r}: assign a Module or None."
                )
            d["_modules"][name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str = "") -> None:
        """Drop ``name`` from the plain attributes and the registries other than ``keep``, before it is
        registered there (a replaced parameter keeps its place in the order)."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails, i.e. for registered parameters, buffers, modules.
        for registry in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(registry)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, {}):
                del self.__dict__[registry][name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Keep ``tensor`` as state that is saved and moved with the module but is not trained (running stats)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None, got {type(tensor).__name__}.")
        self._forget(name, keep="_buffers")
        self._buffers[name] = tensor

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (None keeps the name with no parameter, e.g. bias=False)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter({name!r}): expected an nn.Parameter or None, got {type(param).__name__}."
            )
        self._forget(name, keep="_parameters")
        self._parameters[name] = param

    def add_module(self, name: str, module: Module) -> None:
        """Register a sub-module under ``name`` (what attribute assignment does, for names like "0")."""
        self._forget(name, keep="_modules")
        self._modules[name] = module

    # ---- traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ("") and every descendant, parents first, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct sub-modules."""
        yield from ((k, m) for k, m in self._modules.items() if m is not None)

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def _named(self, registry: str) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()  # a shared weight is listed (and updated by an optimizer) once
        for prefix, m in self.named_modules():
            for k, t in getattr(m, registry).items():
                if t is not None and id(t) not in seen:
                    seen.add(id(t))
                    yield (f"{prefix}.{k}" if prefix else k), t

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ("0.weight", ...), ("net.1.bias", ...)."""
        return self._named("_parameters")

    def parameters(self) -> Iterator[Parameter]:
        """Every parameter, each once: what an optimizer updates."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, e.g. ("1.running_mean", ...)."""
        return self._named("_buffers")

    def buffers(self) -> Iterator[Tensor]:
        """Every buffer (state that is saved but not trained)."""
        for _, b in self.named_buffers():
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the parameters hold (only those with requires_grad, if asked)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Any) -> Module:
        """Call fn(m) on every sub-module, then on self (e.g. a custom init). Returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and all descendants (Dropout drops, BatchNorm uses batch stats)."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """``train(False)``: Dropout is the identity, BatchNorm uses its running statistics."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (p.grad = None), before the next backward."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient tracking of every parameter on or off. Returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, dtype: Any) -> Module:
        """Convert floating-point parameters, buffers and gradients to ``dtype`` (e.g. float64 for gradcheck)."""
        dtype = np.dtype(dtype)
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f":
                t.data = t.data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor(t.grad.data.astype(dtype))
        return self

    def double(self) -> Module:
        """``to(float64)``, as for gradient checks."""
        return self.to(np.float64)

    def float(self) -> Module:
        """``to(float32)``, the library default."""
        return self.to(np.float32)

    # ---- saving and loading
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Name -> a NumPy copy on the host, for every parameter and buffer (module by module)."""
        sd: OrderedDict[str, np.ndarray] = OrderedDict()
        for prefix, m in self.named_modules():
            for registry in (m._parameters, m._buffers):
                for k, t in registry.items():
                    if t is not None:
                        sd[f"{prefix}.{k}" if prefix else k] = _host_copy(t.data)
        return sd

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> LoadResult:
        """Copy saved values into the parameters and buffers, in place, on their own device and dtype.

        Checks every name and shape before copying anything. With ``strict`` (the default) a
        missing or an unexpected name is an error; otherwise they are returned.
        """
        own: dict[str, Tensor] = {}
        for prefix, m in self.named_modules():
            for registry in (m._parameters, m._buffers):
                own.update({(f"{prefix}.{k}" if prefix else k): t for k, t in registry.items() if t is not None})
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            found = [f"{what} keys {keys}" for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
            raise ValueError(
                f"load_state_dict into {type(self).__name__}: {' and '.join(found)}: load a state dict saved "
                "from the same architecture, or pass strict=False to skip them."
            )
        hosts = {}
        for k, t in own.items():
            if k in state_dict:
                v = state_dict[k]
                hosts[k] = backend.to_numpy(v.data if isinstance(v, Tensor) else v)
                if tuple(hosts[k].shape) != tuple(t.shape):
                    raise ValueError(
                        f"load_state_dict: {k!r} has shape {tuple(t.shape)} in the model but "
                        f"{tuple(hosts[k].shape)} in the state dict: build the model with the sizes it was saved with."
                    )
        for k, host in hosts.items():
            t = own[k]
            t.data[...] = backend.get_array_module(t.data).asarray(host, dtype=t.dtype)
        return LoadResult(missing, unexpected)

    # ---- calling and printing
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes; every subclass defines it (``module(x)`` calls it)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...).")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The layer's settings, shown inside its parentheses in the repr."""
        return ""

    def _name(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self) -> str:
        # PyTorch's nested layout, plus each module's parameter count after its closing parenthesis.
        children = [f"({k}): " + repr(m).replace("\n", "\n  ") for k, m in self.named_children()]
        extra = self.extra_repr()
        if not children:
            text = self._name()
        else:
            lines = ([extra] if extra else []) + children
            text = f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
        n = self.num_parameters()
        if n:
            frozen_n = n - self.num_parameters(trainable_only=True)
            text += f"  # {n:,} parameter{'s' if n != 1 else ''}" + (f" ({frozen_n:,} frozen)" if frozen_n else "")
        return text


@contextmanager
def frozen(module: Module) -> Iterator[Module]:
    """``with frozen(G):`` G's parameters get no gradient inside the block; their flags are restored after.

    Gradients still flow *through* G to anything before it; only G's own weights are left out.
    """
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@contextmanager
def evaluating(module: Module) -> Iterator[Module]:
    """``with evaluating(G):`` G and all its sub-modules run in eval mode inside the block (BatchNorm
    uses its running statistics, Dropout is the identity); afterwards each module's own ``training``
    flag is put back as it was, also when the block raises."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)


@contextmanager
def substituted(module: Module, weights: Sequence[Tensor]) -> Iterator[Module]:
    """``with substituted(D, weights):`` D computes with ``weights`` in place of its parameters.

    ``weights`` holds one tensor per parameter slot, in ``parameters()`` order and of the same
    shapes. Each layer reads ``self.weight`` from its parameter registry when it runs, so a
    tensor that is itself the result of a computation (e.g. theta - lr * grad, kept in the
    graph) makes the module's output a differentiable function of that computation: the
    functional call of ``torch.func``, by hand. The parameters are put back afterwards, also
    when the block raises.
    """
    slots = [(m, name) for _, m in module.named_modules() for name, p in m._parameters.items() if p is not None]
    if len(slots) != len(weights):
        raise ValueError(f"substituted: the module has {len(slots)} parameters, got {len(weights)} tensors.")
    saved = [m._parameters[name] for m, name in slots]
    try:
        for (m, name), w in zip(slots, weights):
            m._parameters[name] = w
        yield module
    finally:
        for (m, name), p in zip(slots, saved):
            m._parameters[name] = p
