"""The house rules every op follows (minigan.autograd.function.Function's docstring states them).

- each ``Function`` subclass has a one-line docstring of its math, the forward then the backward
  rule: ``y = a * b;  ga = gy * b, gb = gy * a``;
- its ``forward`` and ``backward`` carry type hints;
- the gating rule: ``backward`` returns None for each input whose ``needs_input_grad[i]`` is False,
  and a gradient of the input's shape for each other; one-input ops need no gate, because a call
  is recorded only when an input requires a gradient.
"""

import inspect
import re

import numpy as np
import pytest

import minigan
from minigan.autograd import arithmetic, conv, elementwise, reductions, shapes
from minigan.autograd.function import Function
from minigan.autograd.tensor import Tensor

OP_MODULES = (arithmetic, elementwise, reductions, shapes, conv)


def _ops() -> list[type[Function]]:
    return [
        cls
        for module in OP_MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Function) and cls is not Function and cls.__module__ == module.__name__
    ]


def _name(cls: type) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def _n_array_args(cls: type[Function]) -> float:
    """How many arrays ``forward`` takes (inf for ``*arrays``)."""
    params = list(inspect.signature(cls.forward).parameters.values())[1:]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return float("inf")
    return len(params)


def test_every_op_module_has_ops():
    found = {cls.__module__ for cls in _ops()}
    assert found == {m.__name__ for m in OP_MODULES}


# --------------------------------------------------------------------------- docstrings and hints

# The backward half names a gradient and its rule: "gx = ...", "ga = ..., gb = ...", "dW = ...".
_BACKWARD_RULE = re.compile(r"\b[gd]\w*\s*=")


@pytest.mark.parametrize("cls", _ops(), ids=_name)
def test_op_has_a_one_line_docstring_with_forward_and_backward(cls):
    doc = cls.__dict__.get("__doc__")
    assert doc and doc.strip(), f"{_name(cls)} has no docstring: write 'y = ...;  gx = ...' (forward; backward)."
    lines = doc.strip().splitlines()
    assert len(lines) == 1 or not lines[1].strip(), (
        f"{_name(cls)}: the math must fit the docstring's first line (a blank line before any more): {doc!r}"
    )
    forward, sep, backward = lines[0].partition(";")
    assert sep and forward.strip(), f"{_name(cls)}: the first line must read 'forward;  backward', got {lines[0]!r}"
    assert _BACKWARD_RULE.search(backward), (
        f"{_name(cls)}: after ';' the backward rule must name a gradient, e.g. 'gx = gy ...', got {lines[0]!r}"
    )


@pytest.mark.parametrize("cls", _ops(), ids=_name)
def test_op_forward_and_backward_have_type_hints(cls):
    for method in ("forward", "backward"):
        assert method in cls.__dict__, f"{_name(cls)} does not define {method}()."
        sig = inspect.signature(cls.__dict__[method])
        assert sig.return_annotation is not sig.empty, f"{_name(cls)}.{method} has no return annotation."
        bare = [p.name for p in list(sig.parameters.values())[1:] if p.annotation is p.empty]
        assert not bare, f"{_name(cls)}.{method}: parameters {bare} have no type hint."


# --------------------------------------------------------------------------- the gating rule


def _arrays(*shapes_: tuple[int, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in shapes_]  # float64


# For each op with more than one input: how to make one call, and its input arrays.
GATED: dict[str, tuple] = {
    "arithmetic.Add": (lambda: arithmetic.Add(), _arrays((2, 3), (3,))),
    "arithmetic.Sub": (lambda: arithmetic.Sub(), _arrays((2, 3), (3,))),
    "arithmetic.Mul": (lambda: arithmetic.Mul(), _arrays((2, 3), (3,))),
    "arithmetic.Div": (lambda: arithmetic.Div(), _arrays((2, 3), (3,))),
    "arithmetic.MatMul": (lambda: arithmetic.MatMul(), _arrays((2, 3), (3, 4))),
    "shapes.Concat": (lambda: shapes.Concat(0), _arrays((2, 3), (1, 3))),
    "conv.Conv2d": (lambda: conv.Conv2d((1, 1), (0, 0)), _arrays((1, 2, 4, 4), (3, 2, 3, 3), (3,))),
    "conv.ConvTranspose2d": (lambda: conv.ConvTranspose2d((1, 1), (0, 0)), _arrays((1, 2, 3, 3), (2, 3, 3, 3), (3,))),
    "conv.Conv2dGradW": (lambda: conv.Conv2dGradW((3, 3), (1, 1), (0, 0)), _arrays((1, 2, 4, 4), (1, 3, 2, 2))),
}

MULTI_INPUT = [cls for cls in _ops() if _n_array_args(cls) > 1]


def test_every_multi_input_op_has_a_gating_case():
    missing = sorted(_name(cls) for cls in MULTI_INPUT if _name(cls) not in GATED)
    assert not missing, f"add a case to GATED for {missing}"


def _grads(name: str, wanted: set[int]) -> tuple:
    make, arrays = GATED[name]
    xs = [minigan.tensor(a, requires_grad=i in wanted) for i, a in enumerate(arrays)]
    f = make()
    y = f(*xs)
    with minigan.no_grad():  # as the engine calls it without create_graph
        gxs = f.backward(Tensor(np.ones_like(y.data)))
    return xs, gxs if isinstance(gxs, tuple) else (gxs,)


@pytest.mark.parametrize("cls", MULTI_INPUT, ids=_name)
def test_backward_returns_none_exactly_for_inputs_that_need_no_gradient(cls):
    name = _name(cls)
    n = len(GATED[name][1])
    for wanted in [{i} for i in range(n)] + [set(range(n))]:
        xs, gxs = _grads(name, wanted)
        assert len(gxs) == n, f"{name}.backward returned {len(gxs)} gradients for {n} inputs"
        for i, (x, gx) in enumerate(zip(xs, gxs)):
            if i in wanted:
                assert gx is not None and gx.shape == x.shape, f"{name}: input {i} needs a gradient of {x.shape}"
            else:
                assert gx is None, f"{name}: input {i} needs no gradient, yet backward made one (wanted: {wanted})"


def test_a_call_is_recorded_only_when_an_input_needs_a_gradient():
    # Why one-input ops need no gate: backward only ever runs with their one input needing a gradient.
    x = minigan.tensor(np.ones(3))
    assert minigan.autograd.exp(x).creator is None
    y = minigan.autograd.exp(x.requires_grad_())
    assert y.creator.needs_input_grad == (True,)
    with minigan.no_grad():
        assert minigan.autograd.exp(x).creator is None
