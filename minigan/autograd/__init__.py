"""Reverse-mode automatic differentiation: ``Tensor``, ``Function``, the engine and the ops.

Define-by-run, as in PyTorch: every operation on tensors that require a gradient
records the ``Function`` that made its result. ``y.backward()`` then walks that graph
from ``y`` back to the leaves, in reverse topological order, applying the chain rule
once per function.

Every ``Function.backward`` is written with differentiable tensor operations. So when
the backward pass itself is recorded (``create_graph=True``), the gradients are tensors
with a graph of their own and can be differentiated again: that is how the WGAN
gradient penalty and the unrolled GAN get their second derivatives.

The rooms, each importing only those above it in this list:

- ``tensor``: the Tensor and its operators;
- ``engine``: grad mode, the topological order, ``backward`` and ``grad``;
- ``function``: ``Function`` and the rule that records an op and gates its gradients;
- the ops by kind: ``shapes`` (broadcasting, reshape, indexing), ``arithmetic``,
  ``elementwise`` (and activations), ``reductions``; then ``conv`` (conv2d and its
  transpose) and ``creation`` (zeros, randn, ...).
"""

from minigan.autograd.tensor import Tensor, as_tensor, tensor  # noqa: I001  (first: the ops need it)
from minigan.autograd.engine import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from minigan.autograd.function import Function
from minigan.autograd.arithmetic import add, div, matmul, mul, neg, pow, sub, swap_last, where
from minigan.autograd.elementwise import abs, clip, exp, leaky_relu, log, relu, sigmoid, softplus, sqrt, tanh
from minigan.autograd.reductions import max, mean, sum, var
from minigan.autograd.shapes import (
    astype, broadcast_to, concat, get_item, reshape, stack, sum_to, transpose,
)
from minigan.autograd.conv import conv2d, conv_transpose2d
from minigan.autograd.creation import arange, ones, ones_like, rand, randint, randn, zeros, zeros_like

__all__ = [
    "Tensor", "Function", "tensor", "as_tensor",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "grad",
    "add", "sub", "mul", "div", "neg", "pow", "matmul", "swap_last",
    "exp", "log", "sqrt", "abs", "clip", "relu", "leaky_relu", "sigmoid", "tanh", "softplus",
    "sum", "mean", "var", "max",
    "broadcast_to", "sum_to", "reshape", "transpose", "get_item", "concat", "stack", "astype", "where",
    "conv2d", "conv_transpose2d",
    "zeros", "ones", "zeros_like", "ones_like", "rand", "randn", "randint", "arange",
]
