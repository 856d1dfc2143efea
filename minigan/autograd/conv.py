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

The layout is this module's business: the generic ops (reshape, transpose) know nothing
of it. Where a feature map meets a Linear layer (``nn.Flatten``), ``flatten_features``
hands the gradient back channels-last. One fast path, named and measured where it is
defined: ``_conv_transpose_blocks``, the product and col2im fused for large layers.
"""

from __future__ import annotations

from typing import Any

from minigan import backend
from minigan.autograd.engine import is_grad_enabled
from minigan.autograd.function import Array, Function
from minigan.autograd.reductions import sum as _sum
from minigan.autograd.shapes import reshape
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
    (ConvTranspose2d's plain version is a product then this; its fast path fuses the two.)
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


# --------------------------------------------------------------------------- the fast path

# ConvTranspose2d runs the fused block loop below instead of its plain product + col2im (the
# exercise) when the plain version's col would be at least this large: a col that outgrows
# the cache is written by the product and read back from memory by col2im, and the block loop
# never makes it whole. Below that the plain version is as fast or faster (one wide product
# instead of KH*KW/g narrow ones). Measured (NumPy, ms per forward at batch 64, CPU time,
# 1 thread / 2 threads, min of 30): the DCGAN's first layer 128 -> 64, 7 -> 14 (col 12.8 MB)
# 7.2 / 5.0 fused, 7.9 / 5.5 plain; its last layer 64 -> 1, 14 -> 28 (col 0.8 MB) 2.2 / 1.6
# fused, 0.9 / 0.8 plain; 64 -> 3 (col 2.4 MB) 3.7 / 2.6 fused, 3.5 / 3.2 plain; 64 -> 8
# (col 6.4 MB) 4.1 / 2.9 fused, 5.8 / 5.5 plain. Both add each output's products in the same
# tap order (at the DCGAN's sizes they gave the same bits); tests/test_conv.py holds them equal.
BLOCK_LOOP_MIN_COL_BYTES = 2 << 20


def uses_block_loop(x: Array, weight: Array) -> bool:
    """True when ConvTranspose2d runs ``_conv_transpose_blocks``: its col (N*H*W, KH*KW*OC) would be large."""
    n, _, h, w = x.shape
    _, oc, kh, kw = weight.shape
    return n * h * w * kh * kw * oc * x.itemsize >= BLOCK_LOOP_MIN_COL_BYTES


def _conv_transpose_blocks(x: Array, weight: Array, stride: Pair, pad: Pair, out_size: tuple[int, int]) -> Array:
    """conv_transpose2d without its bias, as ConvTranspose2d's plain version computes it, with
    the product and col2im fused: x (N, IC, H, W), W (IC, OC, KH, KW) -> (N, OC, OH, OW).

    The product is made one block of taps at a time into a reused buffer, and each block is
    added into the image while it is still in cache, so the whole col (12.8 MB for the
    DCGAN's first layer) never exists. A block is kernel row i and the g taps j0 .. j0 + g - 1,
    with g = the stride when the kernel width allows: taps j0 + r land on the g adjacent
    output columns s*(w + j0/g) + r of input pixel w, so the block (N*H*W, g*OC) is added as
    a whole, in runs of W*g*OC numbers instead of OC (NumPy's cost is per run). When it
    runs: ``BLOCK_LOOP_MIN_COL_BYTES`` above; its history: benchmarks/RESULTS.md, item 6.
    """
    xp = backend.get_array_module(x)
    n, ic, h, w = x.shape
    _, oc, kh, kw = weight.shape
    sh, sw = stride
    pixel_rows = _rows(x)  # (N*H*W, IC), the left factor of every block
    img = _padded_zeros(x, (n, oc) + tuple(out_size), pad)
    g = sw if sw > 1 and kw % sw == 0 and img.shape[2] % sw == 0 else 1
    block = xp.empty((n * h * w, g * oc), dtype=x.dtype)  # reused by every block
    for i in range(kh):
        out_rows = img[:, i : i + sh * h : sh]  # the output rows kernel row i lands on
        groups = out_rows.reshape(n, h, -1, g * oc)  # a view: g pixels per group
        for j0 in range(0, kw, g):
            w_block = xp.ascontiguousarray(weight[:, :, i, j0 : j0 + g].transpose(0, 2, 1)).reshape(ic, g * oc)
            xp.matmul(pixel_rows, w_block, out=block)
            if g > 1:
                groups[:, :, j0 // g : j0 // g + w, :] += block.reshape(n, h, w, g * oc)
            else:
                out_rows[:, :, j0 : j0 + sw * w : sw, :] += block.reshape(n, h, w, oc)
    return _crop(img, (n, oc) + tuple(out_size), pad)


# --------------------------------------------------------------------------- functions


class Conv2d(Function):
    """y = im2col(x) @ W^T + b;  gx = conv_transpose2d(gy, W), gW = Conv2dGradW(x, gy), gb = sum of gy over N, OH, OW.

    x (N, C, H, W), W (OC, C, KH, KW), b (OC,) -> y (N, OC, OH, OW).

    ``col``, when given, is ``im2col(x)`` already made by the caller (see ConvTranspose2d.backward).
    ``keep_col=True`` keeps this forward's col for the weight gradient, which needs the same
    matrix: a copy saved per convolution (2 of the 12 largest copies of a DCGAN iteration) for
    the memory of one col per layer until backward.
    """

    def __init__(self, stride: Pair, pad: Pair, col: Any = None, keep_col: bool = False) -> None:
        self.stride, self.pad, self.col, self.keep_col = stride, pad, col, keep_col

    def forward(self, x: Array, weight: Array, bias: Array | None = None) -> Array:
        col = self.col if self.col is not None else im2col(x, weight.shape[2:], self.stride, self.pad)
        self.col = col if self.keep_col else None  # otherwise the graph does not keep it alive
        n, oh, ow = col.shape[:3]
        # W (OC, C, KH, KW) -> (OC, KH*KW*C), columns in col's (i, j, c) order: a small copy.
        w_matrix = weight.transpose(0, 2, 3, 1).reshape(weight.shape[0], -1)
        y = col.reshape(n * oh * ow, -1) @ w_matrix.T  # (N*OH*OW, OC): channels-last output
        if bias is not None:
            y += bias
        return as_channels_first(y.reshape(n, oh, ow, -1))

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
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
    """y = col2im(rows(x) @ W) + b;  gx = conv2d(gy, W), gW = Conv2dGradW(gy, x), gb = sum of gy over N, OH, OW.

    x (N, IC, H, W), W (IC, OC, KH, KW), b (OC,) -> y (N, OC, OH, OW). Each input pixel
    scatters a weighted copy of the kernel into the output: a matrix product (IC
    contracted) then col2im. Large layers run the same two steps fused
    (``_conv_transpose_blocks``, when ``uses_block_loop``). ``output_size`` (OH, OW), when
    given, is the size of the conv2d input this is the gradient of (an uneven stride leaves
    extra rows).
    """

    def __init__(self, stride: Pair, pad: Pair, output_size: tuple[int, int] | None = None) -> None:
        self.stride, self.pad, self.output_size = stride, pad, output_size

    def forward(self, x: Array, weight: Array, bias: Array | None = None) -> Array:
        n, ic, h, w = x.shape
        _, oc, kh, kw = weight.shape
        if self.output_size is None:
            oh = conv_transpose_output_size(h, kh, self.stride[0], self.pad[0])
            ow = conv_transpose_output_size(w, kw, self.stride[1], self.pad[1])
        else:
            oh, ow = self.output_size
        if uses_block_loop(x, weight):
            y = _conv_transpose_blocks(x, weight, self.stride, self.pad, (oh, ow))
        else:
            # BEGIN EXERCISE conv-transpose (10 points): the transposed convolution, a matrix product then col2im
            # HINT: every input pixel x[n, :, h, w] stamps the kernel, weighted by its IC values, onto
            #   the output at rows s h - pad + i and columns s w - pad + j: the adjoint of conv2d.
            # HINT: _rows(x) is x as an (N*H*W, IC) matrix, and weight.transpose(0, 2, 3, 1) lays the
            #   kernel out as (IC, KH, KW, OC): flattened to (IC, KH*KW*OC), its product with the rows
            #   holds every pixel's stamp, which reshapes to col (N, H, W, KH, KW, OC).
            # HINT: col2im (above) adds those stamps into an (N, OC, OH, OW) image; leave it in y
            #   for the bias below.
            w_matrix = weight.transpose(0, 2, 3, 1).reshape(ic, kh * kw * oc)  # a small copy
            col = (_rows(x) @ w_matrix).reshape(n, h, w, kh, kw, oc)
            y = col2im(col, (n, oc, oh, ow), self.stride, self.pad)
            # END EXERCISE
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        return y

    def backward(self, gy: Tensor) -> tuple[Tensor | None, ...]:
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
    """gW = rows(gy)^T @ im2col(x), conv2d's weight gradient;  gx = conv_transpose2d(gy, ggW), ggy = conv2d(x, ggW).

    (x (N, C, H, W), gy (N, OC, OH, OW)) -> gW (OC, C, KH, KW). It is bilinear in x and
    gy, so its own backward is a conv2d and a conv_transpose2d. ``col``, when given,
    is ``im2col(x)`` already made by the caller.
    """

    def __init__(self, kernel: Pair, stride: Pair, pad: Pair, col: Any = None) -> None:
        self.kernel, self.stride, self.pad, self.col = tuple(kernel), stride, pad, col

    def forward(self, x: Array, gy: Array) -> Array:
        xp = backend.get_array_module(x)
        col = self.col if self.col is not None else im2col(x, self.kernel, self.stride, self.pad)
        self.col = None
        n, oh, ow, kh, kw, c = col.shape
        # (OC, N*OH*OW) @ (N*OH*OW, KH*KW*C): gy's rows read transposed, no copy.
        gw = _rows(gy).T @ col.reshape(n * oh * ow, -1)
        return xp.ascontiguousarray(gw.reshape(-1, kh, kw, c).transpose(0, 3, 1, 2))

    def backward(self, ggw: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, gy = self.inputs
        gx = ggy = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose2d(self.stride, self.pad, x.shape[2:])(gy, ggw)
        if self.needs_input_grad[1]:
            ggy = Conv2d(self.stride, self.pad)(x, ggw)
        return gx, ggy


# --------------------------------------------------------------------------- a feature map meets a Linear layer


def _is_channels_last(a: Array) -> bool:
    """True for an (N, C, H, W) array whose memory is (N, H, W, C), as the convolutions return."""
    return a.ndim == 4 and not a.flags.c_contiguous and a.transpose(0, 2, 3, 1).flags.c_contiguous


class FlattenFeatures(Function):
    """y = x.reshape(N, C*H*W) for a channels-last feature map x;  gx = gy.reshape(N, C, H, W), channels-last."""

    def forward(self, x: Array) -> Array:
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)  # one copy, into (c, h, w) order: the Linear's columns

    def backward(self, gy: Tensor) -> Tensor:
        return UnflattenChannelsLast(self.x_shape)(gy)


class UnflattenChannelsLast(Function):
    """y = g.reshape(N, C, H, W) stored channels-last (one copy);  gg = gy.reshape(N, C*H*W)."""

    def __init__(self, shape: tuple[int, int, int, int]) -> None:
        self.shape = tuple(shape)

    def forward(self, g: Array) -> Array:
        return as_channels_first(channels_last(g.reshape(self.shape)))

    def backward(self, gy: Tensor) -> Tensor:
        return reshape(gy, (self.shape[0], -1))


def flatten_features(x: Tensor) -> Tensor:
    """A feature map x (N, C, H, W) -> (N, C*H*W), the rows a Linear layer reads (``nn.Flatten``).

    The values are ``x.reshape(N, -1)``, in (c, h, w) order as in PyTorch. What differs is the
    gradient's memory: when a convolution made x (channels-last memory), the gradient goes back
    channels-last too, one copy here. Without it the activation and batch-norm backward passes
    between here and the convolution would mix a (N, C, H, W)-ordered gradient with their
    channels-last saved arrays, which NumPy runs 2x slower (``g * x_hat`` 0.75 vs 0.38 ms), and
    the convolution's backward would copy the gradient again (benchmarks/RESULTS.md, item 10).
    """
    if x.ndim != 4:
        raise ValueError(f"flatten_features expects a feature map of shape (N, C, H, W), got {x.shape}.")
    if not _is_channels_last(x.data):
        return reshape(x, (x.shape[0], -1))
    return FlattenFeatures()(x)


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
