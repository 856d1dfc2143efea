"""Arithmetic ops: + - * / negation, powers and the matrix product."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigan import backend
from minigan.autograd.function import Array, Function
from minigan.autograd.shapes import sum_to, transpose
from minigan.autograd.tensor import Tensor, as_tensor

# --------------------------------------------------------------------------- arithmetic


class Add(Function):
    """y = a + b;  ga = gy, gb = gy (each summed back to its input's shape)."""

    def forward(self, a: Array, b: Array) -> Array:
        return a + b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = sum_to(gy, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Sub(Function):
    """y = a - b;  ga = gy, gb = -gy (each summed back to its input's shape)."""

    def forward(self, a: Array, b: Array) -> Array:
        return a - b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = sum_to(gy, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Mul(Function):
    """y = a * b;  ga = gy * b, gb = gy * a (each summed back to its input's shape)."""

    def forward(self, a: Array, b: Array) -> Array:
        return a * b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = sum_to(gy * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(gy * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    """y = a / b;  ga = gy / b, gb = -gy a / b^2 (each summed back to its input's shape)."""

    def forward(self, a: Array, b: Array) -> Array:
        return a / b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = sum_to(gy / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(-gy * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """y = -x;  gx = -gy."""

    def forward(self, x: Array) -> Array:
        return -x

    def backward(self, gy: Tensor) -> Tensor:
        return -gy


class Pow(Function):
    """y = x^c for a constant exponent c;  gx = gy c x^(c-1)."""

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x: Array) -> Array:
        return x**self.c

    def backward(self, gy: Tensor) -> Tensor:
        (x,) = self.inputs
        return gy * (self.c * x ** (self.c - 1))


def _check_float_scalar(name: str, value: Any) -> None:
    if isinstance(value, Tensor) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: the exponent must be a Python number, got {type(value).__name__}.")


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting."""
    return Add()(*_pair(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting."""
    return Sub()(*_pair(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """a * b elementwise, broadcasting."""
    return Mul()(*_pair(a, b))


def div(a: Any, b: Any) -> Tensor:
    """a / b elementwise, broadcasting."""
    return Div()(*_pair(a, b))


def neg(x: Tensor) -> Tensor:
    """-x."""
    return Neg()(x)


def pow(x: Tensor, c: float) -> Tensor:
    """x ** c for a constant (Python number) exponent c."""
    _check_float_scalar("pow", c)
    return Pow(c)(x)


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors; a Python number takes the other operand's dtype."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, like=a)
    if isinstance(b, Tensor):
        return as_tensor(a, like=b), b
    a = as_tensor(a)  # neither is a Tensor (e.g. where(mask, 1.0, 0.0)): a sets the dtype
    return a, as_tensor(b, like=a)


# --------------------------------------------------------------------------- matmul


class MatMul(Function):
    """y = a @ b (leading axes broadcast as a batch);  ga = gy @ b^T, gb = a^T @ gy (each summed to its shape)."""

    def forward(self, a: Array, b: Array) -> Array:
        if a.shape[-1] == 1:
            # Inner size 1 is an outer product (D's last layer, dL/dx = gy W with W (1, in)):
            # OpenBLAS takes 0.56 ms for (64, 1) @ (1, 6272), broadcasting a * b 0.05 ms.
            return a * b
        return a @ b

    def backward(self, gy: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ga = sum_to(matmul(gy, swap_last(b)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(matmul(swap_last(a), gy), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product a @ b: (..., n, k) @ (..., k, m) -> (..., n, m)."""
    a, b = _pair(a, b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(
            f"matmul needs two tensors with at least 2 axes, got shapes {a.shape} and {b.shape}: "
            "reshape a vector v to a row v.reshape(1, -1) or a column v.reshape(-1, 1)."
        )
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not line up: the last axis of the first "
            f"({a.shape[-1]}) must equal the second-to-last axis of the second ({b.shape[-2]})."
        )
    return MatMul()(a, b)


def swap_last(x: Tensor) -> Tensor:
    """Swap the last two axes (the transpose of each matrix in a batch)."""
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return transpose(x, axes)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where condition holds, else b (condition is a constant mask)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = _pair(a, b)
    xp = backend.get_array_module(a.data, b.data)
    mask = Tensor(xp.asarray(cond).astype(a.dtype))
    return a * mask + b * (1.0 - mask)
