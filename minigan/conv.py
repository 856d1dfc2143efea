"""Convolution and transposed convolution by im2col.

im2col turns a convolution into one matrix product. For every kernel position
(i, j) we take a strided slice of the padded input, the pixels that kernel tap
sees at every output location, and store it at ``col[:, :, i, j]``::

    col[n, c, i, j, oh, ow] = x_padded[n, c, i + s*oh, j + s*ow]

so ``y[n, o, oh, ow] = sum_{c,i,j} W[o, c, i, j] * col[n, c, i, j, oh, ow]``,
a ``tensordot`` over (c, i, j). The Python loop runs over the KH x KW kernel
positions only (16 for a 4x4 kernel), never over images or pixels.

col2im is the adjoint: it adds each ``col[:, :, i, j]`` back into the slice it
came from. Transposed convolution is exactly "matrix product, then col2im".
So conv2d's gradient with respect to its input is a conv_transpose2d, and
conv_transpose2d's gradient with respect to its input is a conv2d: each is the
other's backward, and second derivatives come for free.
"""

from __future__ import annotations

from typing import Any

from minigan import backend
from minigan.autograd import Function, Tensor
from minigan.ops import sum as _sum

Pair = tuple[int, int]


def pair(v: int | tuple[int, int]) -> Pair:
    """3 -> (3, 3); (3, 2) stays."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"Expected an int or a pair of ints, got {v!r}.")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv_output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length of a convolution: floor((size + 2 pad - kernel) / stride) + 1."""
    return (size + 2 * pad - kernel) // stride + 1


def conv_transpose_output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length of a transposed convolution: stride (size - 1) + kernel - 2 pad."""
    return stride * (size - 1) + kernel - 2 * pad


def im2col(x: Any, kernel: Pair, stride: Pair, pad: Pair) -> Any:
    """x: (N, C, H, W) array -> col: (N, C, KH, KW, OH, OW), by KH*KW strided slices."""
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    if ph or pw:
        x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            col[:, :, i, j] = x[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw]
    return col


def col2im(col: Any, image_shape: tuple[int, int, int, int], stride: Pair, pad: Pair) -> Any:
    """The adjoint of im2col: add every kernel tap's slice back into the image.

    col: (N, C, KH, KW, OH, OW) -> image (N, C, H, W). Overlapping taps add up,
    which a loop over kernel positions does with plain ``+=`` on strided slices
    (no ``np.add.at``: within one (i, j) slice no pixel repeats).
    """
    xp = backend.get_array_module(col)
    n, c, h, w = image_shape
    _, _, kh, kw, oh, ow = col.shape
    (sh, sw), (ph, pw) = stride, pad
    img = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            img[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += col[:, :, i, j]
    return img[:, :, ph : h + ph, pw : w + pw]


# --------------------------------------------------------------------------- functions


class Conv2d(Function):
    """y = conv2d(x, W) + b. x (N, C, H, W), W (OC, C, KH, KW), b (OC,) -> (N, OC, OH, OW)."""

    def __init__(self, stride: Pair, pad: Pair) -> None:
        self.stride, self.pad = stride, pad

    def forward(self, x, weight, bias=None):
        xp = backend.get_array_module(x)
        col = im2col(x, weight.shape[2:], self.stride, self.pad)
        y = xp.tensordot(col, weight, axes=((1, 2, 3), (1, 2, 3)))  # (N, OH, OW, OC)
        if bias is not None:
            y += bias
        return xp.ascontiguousarray(y.transpose(0, 3, 1, 2))

    def backward(self, gy):
        x, weight = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = ConvTranspose2d(self.stride, self.pad, x.shape[2:])(gy, weight)
        if need[1]:
            gw = Conv2dGradW(weight.shape[2:], self.stride, self.pad)(x, gy)
        if len(self.inputs) == 3 and need[2]:
            gb = _sum(gy, axis=(0, 2, 3))
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, gb)


class ConvTranspose2d(Function):
    """y = conv_transpose2d(x, W) + b. x (N, IC, H, W), W (IC, OC, KH, KW) -> (N, OC, OH, OW).

    Each input pixel scatters a weighted copy of the kernel into the output: a
    matrix product (IC contracted) then col2im.
    """

    def __init__(self, stride: Pair, pad: Pair, output_size: tuple[int, int] | None = None) -> None:
        self.stride, self.pad, self.output_size = stride, pad, output_size

    def forward(self, x, weight, bias=None):
        xp = backend.get_array_module(x)
        n, _, h, w = x.shape
        _, oc, kh, kw = weight.shape
        if self.output_size is None:
            oh = conv_transpose_output_size(h, kh, self.stride[0], self.pad[0])
            ow = conv_transpose_output_size(w, kw, self.stride[1], self.pad[1])
        else:
            oh, ow = self.output_size
        col = xp.tensordot(weight, x, axes=(0, 1))  # (OC, KH, KW, N, H, W)
        col = col.transpose(3, 0, 1, 2, 4, 5)  # (N, OC, KH, KW, H, W)
        y = col2im(col, (n, oc, oh, ow), self.stride, self.pad)
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return xp.ascontiguousarray(y)

    def backward(self, gy):
        x, weight = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = Conv2d(self.stride, self.pad)(gy, weight)
        if need[1]:
            gw = Conv2dGradW(weight.shape[2:], self.stride, self.pad)(gy, x)
        if len(self.inputs) == 3 and need[2]:
            gb = _sum(gy, axis=(0, 2, 3))
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, gb)


class Conv2dGradW(Function):
    """The gradient of conv2d with respect to its weight: dW = sum over n, oh, ow of gy * col.

    (x (N, C, H, W), gy (N, OC, OH, OW)) -> (OC, C, KH, KW). It is bilinear in x and
    gy, so its own backward is a conv2d and a conv_transpose2d.
    """

    def __init__(self, kernel: Pair, stride: Pair, pad: Pair) -> None:
        self.kernel, self.stride, self.pad = tuple(kernel), stride, pad

    def forward(self, x, gy):
        xp = backend.get_array_module(x)
        col = im2col(x, self.kernel, self.stride, self.pad)
        return xp.tensordot(gy, col, axes=((0, 2, 3), (0, 4, 5)))

    def backward(self, ggw):
        x, gy = self.inputs
        gx = ggy = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose2d(self.stride, self.pad, x.shape[2:])(gy, ggw)
        if self.needs_input_grad[1]:
            ggy = Conv2d(self.stride, self.pad)(x, ggw)
        return gx, ggy


def _check_conv_input(name: str, x: Tensor, weight: Tensor, channel_axis: int, layout: str) -> None:
    if x.ndim != 4:
        raise ValueError(
            f"{name} expects input of shape (N, C, H, W), got {x.shape}: "
            "add a batch axis with x.reshape(1, *x.shape) or a channel axis with x.reshape(N, 1, H, W)."
        )
    if weight.ndim != 4:
        raise ValueError(f"{name} expects a weight of shape {layout}, got {weight.shape}.")
    for t, what in ((x, "input"), (weight, "weight")):
        if t.dtype.kind != "f":
            raise TypeError(
                f"{name} expects a floating-point {what}, got {t.dtype}: convert it with .astype('float32')."
            )
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{name}: the input is {x.dtype} but the weight is {weight.dtype}: convert the input with "
            f"x.astype('{weight.dtype}')."
        )
    expected = weight.shape[channel_axis]
    if x.shape[1] != expected:
        raise ValueError(
            f"{name}: the input has {x.shape[1]} channels (shape {x.shape}) but the weight {layout} = "
            f"{weight.shape} expects {expected}."
        )


def _check_bias(name: str, bias: Tensor | None, out_channels: int) -> None:
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ValueError(f"{name}: the bias has shape {bias.shape}, expected ({out_channels},), one per channel out.")


def conv2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1, padding: int | Pair = 0
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch).

    y[n, o, oh, ow] = b[o] + sum_{c,i,j} W[o, c, i, j] x_pad[n, c, s*oh + i, s*ow + j]

    x: (N, C, H, W), weight: (OC, C, KH, KW), bias: (OC,) -> (N, OC, OH, OW),
    OH = floor((H + 2 padding - KH) / stride) + 1.
    """
    _check_conv_input("conv2d", x, weight, 1, "(OC, IC, KH, KW)")
    _check_bias("conv2d", bias, weight.shape[0])
    s, p = pair(stride), pair(padding)
    kh, kw = weight.shape[2:]
    if x.shape[2] + 2 * p[0] < kh or x.shape[3] + 2 * p[1] < kw:
        raise ValueError(
            f"conv2d: the {kh}x{kw} kernel is larger than the padded input {x.shape[2:]} "
            f"(padding {p}): use a smaller kernel or more padding."
        )
    args = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d(s, p)(*args)


def conv_transpose2d(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1, padding: int | Pair = 0
) -> Tensor:
    """2-D transposed convolution ("deconvolution"), the adjoint of conv2d.

    x: (N, IC, H, W), weight: (IC, OC, KH, KW), bias: (OC,) -> (N, OC, OH, OW),
    OH = stride (H - 1) + KH - 2 padding. With kernel 4, stride 2, padding 1 it doubles H and W.
    """
    _check_conv_input("conv_transpose2d", x, weight, 0, "(IC, OC, KH, KW)")
    _check_bias("conv_transpose2d", bias, weight.shape[1])
    s, p = pair(stride), pair(padding)
    kh, kw = weight.shape[2:]
    oh = conv_transpose_output_size(x.shape[2], kh, s[0], p[0])
    ow = conv_transpose_output_size(x.shape[3], kw, s[1], p[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"conv_transpose2d: padding {p} leaves no output for input {x.shape} and kernel {kh}x{kw}.")
    args = (x, weight) if bias is None else (x, weight, bias)
    return ConvTranspose2d(s, p)(*args)
