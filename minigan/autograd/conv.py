"""Convolution and transposed convolution by im2col, on channels-last memory.

im2col turns a convolution into one matrix product. For every output position
(oh, ow) and kernel tap (i, j) it copies the pixels that tap sees::

    col[n, oh, ow, i, j, c] = x_padded[n, c, i + s*oh, j + s*ow]

so ``y[n, o, oh, ow] = b[o] + sum_{i,j,c} col[n, oh, ow, i, j, c] * W[o, c, i, j]``:
with col as a matrix of N*OH*OW rows and KH*KW*C columns, that is one matrix
product ``col @ W_matrix.T``, W_matrix = W laid out as (OC, KH*KW*C).

col2im is the adjoint: it adds each tap's slice ``col[:, :, :, i, j]`` back into
the pixels it came from, in a loop over the KH x KW taps (16 for a 4x4 kernel),
never over images or pixels, and never with ``np.add.at``: within one tap no
pixel repeats, so a plain ``+=`` on a strided slice is exact. Transposed
convolution is exactly "matrix product, then col2im". So conv2d's gradient with
respect to its input is a conv_transpose2d, and conv_transpose2d's gradient with
respect to its input is a conv2d: each is the other's backward, and second
derivatives come for free.

Why this order of axes (the speed log is in benchmarks/RESULTS.md):

* Channels last. The tensors are (N, C, H, W) to the user, as in PyTorch, but
  inside the convolutions the channel axis is the last one in memory
  ((N, H, W, C), "NHWC", what PyTorch calls ``channels_last``). Every copy in
  im2col and every ``+=`` in col2im then moves runs of C contiguous numbers (64
  or 128 in the DCGAN) instead of image rows of 7 or 14, and NumPy's cost per
  run, not per number, was what dominated: this order made im2col 4x faster.
* No copies around the matrix product. col's rows (n, oh, ow) and columns
  (i, j, c) are both contiguous, and the weight is a small matrix read
  transposed (BLAS takes a transposed operand for free). The product's result,
  (N*OH*OW, OC), *is* the output in channels-last memory, so it is returned as
  an (N, OC, OH, OW) *view* (``transpose(0, 3, 1, 2)``) without copying back.
  NumPy's elementwise operations keep their input's memory order, so the next
  layer receives channels-last memory too and its im2col copies nothing twice.
* im2col is one copy of a strided view: ``as_strided`` describes the six-axis
  windows of the padded image without moving anything, and one
  ``ascontiguousarray`` copies them into col.
"""

from __future__ import annotations

from typing import Any

from minigan import backend
from minigan.autograd.engine import is_grad_enabled
from minigan.autograd.function import Function
from minigan.autograd.reductions import sum as _sum
from minigan.autograd.tensor import Tensor

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


def channels_last(x: Any) -> Any:
    """(N, C, H, W) array -> its (N, H, W, C) contiguous version; no copy when its memory already is."""
    return backend.get_array_module(x).ascontiguousarray(x.transpose(0, 2, 3, 1))


def as_channels_first(y: Any) -> Any:
    """(N, H, W, C) array -> the same memory seen as (N, C, H, W): a view, no copy."""
    return y.transpose(0, 3, 1, 2)


def im2col(x: Any, kernel: Pair, stride: Pair, pad: Pair) -> Any:
    """x: (N, C, H, W) array -> col: (N, OH, OW, KH, KW, C).

    col[n, oh, ow, i, j, c] = x_pad[n, c, s oh + i, s ow + j], x_pad = x with ``pad`` zeros around H and W.
    """
    xp = backend.get_array_module(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    # BEGIN EXERCISE im2col (10 points): im2col, the patch matrix that turns a convolution into a matrix product
    # HINT: pad first: zeros of shape (N, H + 2 ph, W + 2 pw, C) with x.transpose(0, 2, 3, 1)
    #   written into the middle gives x_pad channels-last.
    # HINT: for one kernel tap (i, j), the pixels it sees at every output position (oh, ow) are
    #   one strided slice of x_pad: rows i, i + sh, ..., i + sh (OH - 1), and the same for columns.
    # HINT: a loop over the KH x KW taps is correct and fast enough; return a contiguous array.
    if ph or pw:
        # Pad and go channels-last in one copy: write the (N, H, W, C) view into the middle of zeros.
        xpad = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
        xpad[:, ph : ph + h, pw : pw + w, :] = x.transpose(0, 2, 3, 1)
    else:
        xpad = channels_last(x)
    # A view of all windows at once: stepping oh moves s rows, stepping i moves one row (same for
    # ow and j), so element [n, oh, ow, i, j, c] sits where x_pad[n, s oh + i, s ow + j, c] does.
    sn, sy, sx, sc = xpad.strides
    windows = xp.lib.stride_tricks.as_strided(
        xpad, shape=(n, oh, ow, kh, kw, c), strides=(sn, sh * sy, sw * sx, sy, sx, sc)
    )
    return xp.ascontiguousarray(windows)
    # END EXERCISE


def col2im(col: Any, image_shape: tuple[int, int, int, int], stride: Pair, pad: Pair) -> Any:
    """The adjoint of im2col: add every kernel tap's slice back into the image.

    col: (N, OH, OW, KH, KW, C) -> image (N, C, H, W), returned as a view of
    channels-last memory. Overlapping taps add up, which a loop over kernel
    positions does with plain ``+=`` on strided slices: within one tap no pixel
    repeats, so the slice assignment is exact (no ``np.add.at``).
    (ConvTranspose2d does the same adds fused with its matrix product.)
    """
    (sh, sw), (_, oh, ow, kh, kw, _) = stride, col.shape
    img = _padded_zeros(col, image_shape, pad)
    for i in range(kh):
        for j in range(kw):
            img[:, i : i + sh * oh : sh, j : j + sw * ow : sw, :] += col[:, :, :, i, j, :]
    return _crop(img, image_shape, pad)


def _padded_zeros(like: Any, image_shape: tuple[int, int, int, int], pad: Pair) -> Any:
    """Zeros for the padded channels-last image (N, H + 2 ph, W + 2 pw, C) that col2im adds into."""
    n, c, h, w = image_shape
    return backend.get_array_module(like).zeros((n, h + 2 * pad[0], w + 2 * pad[1], c), dtype=like.dtype)


def _crop(img: Any, image_shape: tuple[int, int, int, int], pad: Pair) -> Any:
    """The padded channels-last image without its padding, seen as (N, C, H, W) (a view)."""
    _, _, h, w = image_shape
    return as_channels_first(img[:, pad[0] : pad[0] + h, pad[1] : pad[1] + w, :])


def _rows(x: Any) -> Any:
    """(N, C, H, W) array -> (N*H*W, C) matrix, one row per pixel (channels-last; a copy only if needed)."""
    return channels_last(x).reshape(-1, x.shape[1])


# --------------------------------------------------------------------------- functions


class Conv2d(Function):
    """y = conv2d(x, W) + b. x (N, C, H, W), W (OC, C, KH, KW), b (OC,) -> (N, OC, OH, OW).

    ``col``, when given, is ``im2col(x)`` already made by the caller (see ConvTranspose2d.backward).
    ``keep_col=True`` keeps this forward's col for the weight gradient, which needs the same
    matrix: a copy saved per convolution (2 of the 12 largest copies of a DCGAN iteration) for
    the memory of one col per layer until backward.
    """

    def __init__(self, stride: Pair, pad: Pair, col: Any = None, keep_col: bool = False) -> None:
        self.stride, self.pad, self.col, self.keep_col = stride, pad, col, keep_col

    def forward(self, x, weight, bias=None):
        col = self.col if self.col is not None else im2col(x, weight.shape[2:], self.stride, self.pad)
        self.col = col if self.keep_col else None  # otherwise the graph does not keep it alive
        n, oh, ow = col.shape[:3]
        # W (OC, C, KH, KW) -> (OC, KH*KW*C), columns in col's (i, j, c) order: a small copy.
        w_matrix = weight.transpose(0, 2, 3, 1).reshape(weight.shape[0], -1)
        y = col.reshape(n * oh * ow, -1) @ w_matrix.T  # (N*OH*OW, OC): channels-last output
        if bias is not None:
            y += bias
        return as_channels_first(y.reshape(n, oh, ow, -1))

    def backward(self, gy):
        x, weight = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = ConvTranspose2d(self.stride, self.pad, x.shape[2:])(gy, weight)
        if need[1]:
            gw = Conv2dGradW(weight.shape[2:], self.stride, self.pad, self.col)(x, gy)
            self.col = None  # used once; free it
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
        n, ic, h, w = x.shape
        _, oc, kh, kw = weight.shape
        if self.output_size is None:
            oh = conv_transpose_output_size(h, kh, self.stride[0], self.pad[0])
            ow = conv_transpose_output_size(w, kw, self.stride[1], self.pad[1])
        else:
            oh, ow = self.output_size
        # BEGIN EXERCISE conv-transpose (10 points): the transposed convolution, a matrix product then col2im
        # HINT: every input pixel x[n, :, h, w] stamps the kernel, weighted by its IC values, onto
        #   the output at rows s h - pad + i and columns s w - pad + j: the adjoint of conv2d.
        # HINT: _rows(x) is x as an (N*H*W, IC) matrix and weight.reshape(ic, -1) is (IC, OC*KH*KW):
        #   their product holds every pixel's stamp. col2im (above) adds stamps laid out as
        #   (N, H, W, KH, KW, OC) into an (N, OC, OH, OW) image.
        # HINT: leave y (N, OC, OH, OW) for the bias below.
        # col = x_rows @ W_matrix then col2im, fused: the product is made one block of taps at a
        # time and each block is added into the image while it is still in cache, so the whole
        # col (12.8 MB in the DCGAN) never exists. A block is kernel row i and the g taps
        # j0 .. j0 + g - 1, with g = the stride when the kernel width allows: taps j0 + r land on
        # the g adjacent output columns s*(w + j0/g) + r of input pixel w, so the block
        # (N*H*W, g*OC) is added as a whole, in runs of W*g*OC numbers (NumPy's cost is per run).
        xp = backend.get_array_module(x)
        sh, sw = self.stride
        rows = _rows(x)  # (N*H*W, IC)
        img = _padded_zeros(x, (n, oc, oh, ow), self.pad)
        g = sw if sw > 1 and kw % sw == 0 and img.shape[2] % sw == 0 else 1
        block = xp.empty((n * h * w, g * oc), dtype=x.dtype)  # reused by every block
        for i in range(kh):
            out_rows = img[:, i : i + sh * h : sh]  # the output rows kernel row i lands on
            groups = out_rows.reshape(n, h, -1, g * oc)  # a view: g pixels per group
            for j0 in range(0, kw, g):
                w_block = xp.ascontiguousarray(weight[:, :, i, j0 : j0 + g].transpose(0, 2, 1)).reshape(ic, g * oc)
                xp.matmul(rows, w_block, out=block)
                if g > 1:
                    groups[:, :, j0 // g : j0 // g + w, :] += block.reshape(n, h, w, g * oc)
                else:
                    out_rows[:, :, j0 : j0 + sw * w : sw, :] += block.reshape(n, h, w, oc)
        y = _crop(img, (n, oc, oh, ow), self.pad)
        # END EXERCISE
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y

    def backward(self, gy):
        x, weight = self.inputs[:2]
        need = self.needs_input_grad
        gx = gw = gb = None
        # Both products below read im2col(gy): make it once (the largest array of this backward).
        col = im2col(gy.data, weight.shape[2:], self.stride, self.pad) if need[0] and need[1] else None
        if need[0]:
            gx = Conv2d(self.stride, self.pad, col)(gy, weight)
        if need[1]:
            gw = Conv2dGradW(weight.shape[2:], self.stride, self.pad, col)(gy, x)
        if len(self.inputs) == 3 and need[2]:
            gb = _sum(gy, axis=(0, 2, 3))
        return (gx, gw) if len(self.inputs) == 2 else (gx, gw, gb)


class Conv2dGradW(Function):
    """The gradient of conv2d with respect to its weight: dW = sum over n, oh, ow of gy * col.

    (x (N, C, H, W), gy (N, OC, OH, OW)) -> (OC, C, KH, KW). It is bilinear in x and
    gy, so its own backward is a conv2d and a conv_transpose2d. ``col``, when given,
    is ``im2col(x)`` already made by the caller.
    """

    def __init__(self, kernel: Pair, stride: Pair, pad: Pair, col: Any = None) -> None:
        self.kernel, self.stride, self.pad, self.col = tuple(kernel), stride, pad, col

    def forward(self, x, gy):
        xp = backend.get_array_module(x)
        col = self.col if self.col is not None else im2col(x, self.kernel, self.stride, self.pad)
        self.col = None
        n, oh, ow, kh, kw, c = col.shape
        # (OC, N*OH*OW) @ (N*OH*OW, KH*KW*C): gy's rows read transposed, no copy.
        gw = _rows(gy).T @ col.reshape(n * oh * ow, -1)
        return xp.ascontiguousarray(gw.reshape(-1, kh, kw, c).transpose(0, 3, 1, 2))

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
    return Conv2d(s, p, keep_col=is_grad_enabled() and weight.requires_grad)(*args)


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
