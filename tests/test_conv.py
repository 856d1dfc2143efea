"""Tests of minigan.autograd.conv: conv2d and conv_transpose2d against references written from the
definition, their adjointness (and im2col/col2im's), first and second derivatives with
respect to input, weight and bias on every backend, float32 kept, the DCGAN shapes, the
transposed convolution's fast path (the fused block loop) equal to its plain product +
col2im, flatten_features (a feature map into a Linear layer, its gradient channels-last), the
errors a user can cause, and NumPy/CuPy parity."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.autograd import conv
from minigan.autograd.conv import col2im, conv2d, conv_transpose2d, im2col, pair

# --------------------------------------------------------------------------- references


def conv2d_reference(x, w, b, stride, padding):
    """y[n, o, oh, ow] = b[o] + sum over the patch that output position sees, times W[o]."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    n, _, h, wd = x.shape
    oc, _, kh, kw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(n):
        for o in range(oc):
            for r in range(oh):
                for c in range(ow):
                    patch = xpad[i, :, r * sh : r * sh + kh, c * sw : c * sw + kw]
                    y[i, o, r, c] = np.sum(patch * w[o]) + (0.0 if b is None else b[o])
    return y


def conv_transpose2d_reference(x, w, b, stride, padding):
    """For each output position, the sum over every (input pixel, kernel tap) that lands on it:
    input pixel (iy, ix) with tap (i, j) lands on (s iy + i - p, s ix + j - p)."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    n, _, h, wd = x.shape
    _, oc, kh, kw = w.shape
    oh, ow = sh * (h - 1) + kh - 2 * ph, sw * (wd - 1) + kw - 2 * pw
    y = np.zeros((n, oc, oh, ow))
    for r in range(oh):
        for c in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, rem_y = divmod(r + ph - i, sh)
                    ix, rem_x = divmod(c + pw - j, sw)
                    if rem_y or rem_x or not (0 <= iy < h and 0 <= ix < wd):
                        continue
                    # (N, IC, 1) * (1, IC, OC) summed over IC
                    y[:, :, r, c] += np.sum(x[:, :, iy, ix][:, :, None] * w[None, :, :, i, j], axis=1)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


# (N, C, H, W, OC, kernel, stride, padding)
CONV_CASES = {
    "k3-s1-p0": (2, 3, 5, 5, 4, 3, 1, 0),
    "k3-s1-p1": (2, 3, 5, 5, 4, 3, 1, 1),
    "k1": (1, 3, 4, 4, 2, 1, 1, 0),
    "k3-s2-p0-uneven": (1, 2, 8, 8, 3, 3, 2, 0),  # (8 - 3) / 2 leaves a remainder
    "k3-s2-p1-uneven": (1, 2, 6, 7, 3, 3, 2, 1),
    "rect-k(3,2)-s(2,1)-p(1,0)": (1, 2, 7, 6, 3, (3, 2), (2, 1), (1, 0)),
    "rect-k(2,3)-s(1,2)-p(0,1)": (2, 2, 6, 5, 2, (2, 3), (1, 2), (0, 1)),
    "dcgan-28to14": (2, 1, 28, 28, 4, 4, 2, 1),
    "dcgan-14to7": (2, 4, 14, 14, 3, 4, 2, 1),
}

# (N, IC, H, W, OC, kernel, stride, padding)
TRANSPOSE_CASES = {
    "k3-s1-p0": (2, 3, 3, 3, 2, 3, 1, 0),
    "k3-s2-p1": (2, 3, 4, 4, 2, 3, 2, 1),
    "k2-s3-gaps": (1, 2, 3, 3, 2, 2, 3, 0),  # stride > kernel: rows and columns of zeros
    "rect-k(3,2)-s(2,1)-p(1,0)": (1, 2, 3, 4, 3, (3, 2), (2, 1), (1, 0)),
    "dcgan-7to14": (2, 4, 7, 7, 3, 4, 2, 1),
    "dcgan-14to28": (2, 3, 14, 14, 1, 4, 2, 1),
}


def _host_case(case, transpose, rng, bias=True):
    n, c, h, w, oc, k, s, p = case
    kh, kw = pair(k)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((c, oc, kh, kw) if transpose else (oc, c, kh, kw))
    b = rng.standard_normal(oc) if bias else None
    return x, weight, b, s, p


def t(a, requires_grad=False):
    return None if a is None else minigan.tensor(a, requires_grad=requires_grad)


# --------------------------------------------------------------------------- forward values


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv2d_matches_the_definition(name, bias, xp_backend, rng):
    x, w, b, s, p = _host_case(CONV_CASES[name], False, rng, bias)
    y = conv2d(t(x), t(w), t(b), stride=s, padding=p)
    np.testing.assert_allclose(y.numpy(), conv2d_reference(x, w, b, s, p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("name", list(TRANSPOSE_CASES))
def test_conv_transpose2d_matches_the_definition(name, bias, xp_backend, rng):
    x, w, b, s, p = _host_case(TRANSPOSE_CASES[name], True, rng, bias)
    y = conv_transpose2d(t(x), t(w), t(b), stride=s, padding=p)
    np.testing.assert_allclose(y.numpy(), conv_transpose2d_reference(x, w, b, s, p), rtol=1e-12, atol=1e-12)


def test_dcgan_shapes(xp_backend):
    """Kernel 4, stride 2, padding 1 halves (conv) or doubles (transpose) H and W."""
    z = minigan.randn(2, 8, 7, 7)
    up1 = conv_transpose2d(z, minigan.randn(8, 4, 4, 4), minigan.randn(4), stride=2, padding=1)
    up2 = conv_transpose2d(up1, minigan.randn(4, 1, 4, 4), stride=2, padding=1)
    assert up1.shape == (2, 4, 14, 14) and up2.shape == (2, 1, 28, 28)
    down1 = conv2d(up2, minigan.randn(4, 1, 4, 4), stride=2, padding=1)
    down2 = conv2d(down1, minigan.randn(8, 4, 4, 4), minigan.randn(8), stride=2, padding=1)
    assert down1.shape == (2, 4, 14, 14) and down2.shape == (2, 8, 7, 7)
    assert down2.dtype == np.float32


def test_output_size_formulas():
    assert conv.conv_output_size(28, 4, 2, 1) == 14
    assert conv.conv_output_size(8, 3, 2, 0) == 3
    assert conv.conv_transpose_output_size(7, 4, 2, 1) == 14
    assert conv.conv_transpose_output_size(3, 2, 3, 0) == 8
    assert pair(3) == (3, 3) and pair((3, 2)) == (3, 2) and pair([1, 2]) == (1, 2)
    with pytest.raises(ValueError, match="pair"):
        pair((1, 2, 3))


# --------------------------------------------------------------------------- adjointness


def _inner(a, b):
    return float(np.sum(backend.to_numpy(a) * backend.to_numpy(b)))


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(name, xp_backend, rng):
    """<conv2d(x, W), y> == <x, conv_transpose2d(y, W)>: the transpose of the same linear map."""
    x, w, _, s, p = _host_case(CONV_CASES[name], False, rng, bias=False)
    cx = conv2d(t(x), t(w), stride=s, padding=p)
    y = rng.standard_normal(cx.shape)
    kh, kw = w.shape[2:]
    (sh, sw), (ph, pw) = pair(s), pair(p)
    if (x.shape[2] + 2 * ph - kh) % sh == 0 and (x.shape[3] + 2 * pw - kw) % sw == 0:
        cty = conv_transpose2d(t(y), t(w), stride=s, padding=p)  # the public function round-trips
    else:
        # Uneven strides: conv2d forgets the last rows; its backward asks for the input's size.
        cty = conv.ConvTranspose2d(pair(s), pair(p), x.shape[2:])(t(y), t(w))
    assert cty.shape == x.shape
    lhs, rhs = _inner(cx.data, y), _inner(x, cty.data)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("name", list(CONV_CASES))
def test_col2im_is_the_adjoint_of_im2col(name, xp_backend, rng):
    x, w, _, s, p = _host_case(CONV_CASES[name], False, rng, bias=False)
    kernel, stride, pad = tuple(w.shape[2:]), pair(s), pair(p)
    xd = xp_backend.asarray(x)
    col = im2col(xd, kernel, stride, pad)
    n, c, h, wd = x.shape
    oh, ow = conv.conv_output_size(h, kernel[0], stride[0], pad[0]), conv.conv_output_size(wd, kernel[1], stride[1],
                                                                                          pad[1])
    assert col.shape == (n, oh, ow) + kernel + (c,)
    # col holds the padded pixel each tap sees: check every entry against the definition
    # col[n, oh, ow, i, j, c] = x_pad[n, c, s oh + i, s ow + j].
    xpad = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    expected = np.empty(col.shape)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            taps = xpad[:, :, i : i + stride[0] * oh : stride[0], j : j + stride[1] * ow : stride[1]]
            expected[:, :, :, i, j, :] = taps.transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(backend.to_numpy(col), expected)
    c_rand = xp_backend.asarray(rng.standard_normal(col.shape))
    back = col2im(c_rand, x.shape, stride, pad)
    assert back.shape == x.shape
    assert _inner(col, c_rand) == pytest.approx(_inner(x, back), rel=1e-10, abs=1e-10)


def test_conv_path_has_no_add_at():
    """DESIGN: never np.add.at (or CuPy's scatter_add) on the conv path; col2im adds strided slices."""
    tree = ast.parse(Path(conv.__file__).read_text())  # code only: the docstring may say why not
    attributes = [(node.value.attr if isinstance(node.value, ast.Attribute) else "", node.attr)
                  for node in ast.walk(tree) if isinstance(node, ast.Attribute)]
    assert ("add", "at") not in attributes
    assert not [a for a in attributes if a[1] == "scatter_add"]
    assert ("xp", "zeros") in [(getattr(n.value, "id", ""), n.attr) for n in ast.walk(tree)
                               if isinstance(n, ast.Attribute)]  # the walk does see the code


# --------------------------------------------------------------------------- derivatives

GRAD_CASES = {
    "k3-s1-p1": (2, 2, 4, 4, 3, 3, 1, 1),
    "k(3,2)-s2-p1-uneven": (1, 2, 6, 5, 2, (3, 2), 2, 1),
}


def _grad_inputs(name, transpose, bias, seed=0):
    rng = np.random.default_rng(seed)
    n, c, h, w, oc, k, s, p = GRAD_CASES[name]
    if transpose:  # a small input that the transposed convolution enlarges
        h, w = 3, 3
    x, weight, b, s, p = _host_case((n, c, h, w, oc, k, s, p), transpose, rng, bias)
    return [t(a, requires_grad=True) for a in (x, weight, b) if a is not None], s, p


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("name", list(GRAD_CASES))
@pytest.mark.parametrize("fn", [conv2d, conv_transpose2d], ids=["conv2d", "conv_transpose2d"])
def test_gradcheck_input_weight_bias(fn, name, bias, xp_backend):
    xs, s, p = _grad_inputs(name, fn is conv_transpose2d, bias)
    assert minigan.gradcheck(lambda *a: fn(*a, stride=s, padding=p), xs)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("name", list(GRAD_CASES))
@pytest.mark.parametrize("fn", [conv2d, conv_transpose2d], ids=["conv2d", "conv_transpose2d"])
def test_gradgradcheck_input_weight_bias(fn, name, bias, xp_backend):
    xs, s, p = _grad_inputs(name, fn is conv_transpose2d, bias)
    assert minigan.gradgradcheck(lambda *a: fn(*a, stride=s, padding=p), xs)


def test_gradient_penalty_through_a_convolution(xp_backend):
    """d/dW of ||d/dx sum(tanh(conv2d(x, W)))||^2: x and W meet in Conv2dGradW's backward."""
    xs, s, p = _grad_inputs("k(3,2)-s2-p1-uneven", False, False)
    x, w = xs

    def penalty(w):
        (gx,) = minigan.grad(minigan.tanh(conv2d(x, w, stride=s, padding=p)).sum(), x, create_graph=True)
        return (gx * gx).sum()

    assert minigan.gradcheck(penalty, [w])


def test_float32_stays_float32_through_conv_backward(xp_backend, rng):
    x = minigan.tensor(rng.standard_normal((2, 3, 6, 6)), dtype="float32", requires_grad=True)
    w = minigan.tensor(rng.standard_normal((4, 3, 4, 4)), dtype="float32", requires_grad=True)
    b = minigan.tensor(rng.standard_normal(4), dtype="float32", requires_grad=True)
    y = conv2d(x, w, b, stride=2, padding=1)
    w2 = minigan.tensor(rng.standard_normal((4, 2, 4, 4)), dtype="float32", requires_grad=True)
    z = conv_transpose2d(y, w2, stride=2, padding=1)
    assert y.dtype == np.float32 and z.dtype == np.float32
    grads = minigan.grad((z * z).mean(), [x, w, b, w2], create_graph=True)
    assert [g.dtype for g in grads] == [np.float32] * 4
    assert [g.shape for g in grads] == [x.shape, w.shape, b.shape, w2.shape]
    second = minigan.grad(sum(((g * g).sum() for g in grads), start=minigan.tensor(0.0)), [x, w])
    assert [g.dtype for g in second] == [np.float32] * 2


# --------------------------------------------------------------------------- the fast path

# (N, IC, H, W, OC, kernel, stride, padding, output_size or None): each branch of the block
# loop (blocks of g = stride taps when the kernel width and the padded output allow, else g = 1).
BLOCK_CASES = {
    "k3-s1-p0 (g=1)": (2, 3, 3, 3, 2, 3, 1, 0, None),
    "k4-s2-p1-dcgan (g=2)": (2, 3, 4, 4, 2, 4, 2, 1, None),
    "k3-s2-p1 (kw % s != 0: g=1)": (2, 3, 4, 4, 2, 3, 2, 1, None),
    "k2-s3-gaps (g=1)": (1, 2, 3, 3, 2, 2, 3, 0, None),
    "k6-s3-p2 (g=3)": (1, 2, 3, 4, 3, 6, 3, 2, None),
    "rect-k(3,4)-s(2,2)-p(1,0)": (1, 2, 3, 4, 3, (3, 4), (2, 2), (1, 0), None),
    "k4-s2-p1-uneven-output (odd padded width: g=1)": (2, 3, 4, 4, 2, 4, 2, 1, (9, 9)),
}


def _transposed(name, blocks, monkeypatch):
    """conv_transpose2d of a BLOCK_CASES case with the block loop forced on or off, its input
    gradients, and conv2d's input gradient (itself a transposed convolution), all in float64."""
    monkeypatch.setattr(conv, "BLOCK_LOOP_MIN_COL_BYTES", 0 if blocks else math.inf)
    n, ic, h, w, oc, k, s, p, size = BLOCK_CASES[name]
    rng = np.random.default_rng(3)
    x, weight, b, s, p = _host_case((n, ic, h, w, oc, k, s, p), True, rng)
    x, weight, b = (t(a, requires_grad=True) for a in (x, weight, b))
    y = conv.ConvTranspose2d(pair(s), pair(p), size)(x, weight, b)
    assert conv.uses_block_loop(x.data, weight.data) is blocks
    r = t(rng.standard_normal(y.shape))
    grads = minigan.grad((y * r).sum(), [x, weight, b])
    # conv2d's gradient with respect to its input runs ConvTranspose2d.forward on that gradient.
    u = t(rng.standard_normal((n, oc) + tuple(y.shape[2:])), requires_grad=True)
    v = t(rng.standard_normal(x.shape))
    (gu,) = minigan.grad((conv.Conv2d(pair(s), pair(p))(u, weight) * v).sum(), [u], create_graph=True)
    (ggw,) = minigan.grad((gu * gu).sum(), [weight])
    return [a.numpy() for a in (y, *grads, gu, ggw)]


@pytest.mark.parametrize("name", list(BLOCK_CASES))
def test_the_block_loop_equals_the_plain_product_and_col2im(name, xp_backend, monkeypatch):
    """The fast path computes what the exercise's plain version does: values, first and second gradients."""
    fused, plain = _transposed(name, True, monkeypatch), _transposed(name, False, monkeypatch)
    for a, b in zip(fused, plain):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    x, w, b, s, p = _host_case(BLOCK_CASES[name][:-1], True, np.random.default_rng(3))
    if BLOCK_CASES[name][-1] is None:  # and both are the definition
        np.testing.assert_allclose(fused[0], conv_transpose2d_reference(x, w, b, s, p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["k4-s2-p1-dcgan (g=2)", "k3-s2-p1 (kw % s != 0: g=1)"])
def test_the_block_loop_passes_the_gradient_checks(name, xp_backend, monkeypatch):
    monkeypatch.setattr(conv, "BLOCK_LOOP_MIN_COL_BYTES", 0)
    n, ic, h, w, oc, k, s, p, _ = BLOCK_CASES[name]
    xs = [t(a, requires_grad=True) for a in _host_case((n, ic, h, w, oc, k, s, p), True, np.random.default_rng(4))[:3]]
    assert minigan.gradcheck(lambda *a: conv_transpose2d(*a, stride=s, padding=p), xs)
    assert minigan.gradgradcheck(lambda *a: conv_transpose2d(*a, stride=s, padding=p), xs)


def test_the_block_loop_runs_for_the_dcgans_first_layer_only():
    """The measured rule (conv.BLOCK_LOOP_MIN_COL_BYTES): fused where the col outgrows the cache."""
    g1 = np.empty((64, 128, 7, 7), np.float32), np.empty((128, 64, 4, 4), np.float32)  # col 12.8 MB
    g2 = np.empty((64, 64, 14, 14), np.float32), np.empty((64, 1, 4, 4), np.float32)  # col 0.8 MB
    assert conv.uses_block_loop(*g1) and not conv.uses_block_loop(*g2)
    assert not conv.uses_block_loop(np.empty((2, 3, 4, 4)), np.empty((3, 2, 4, 4)))  # the tests' sizes: plain


# --------------------------------------------------------------------------- a feature map meets a Linear layer


def _feature_map(x):
    """x with the same values in a convolution's channels-last memory: a 1x1 identity convolution."""
    c = x.shape[1]
    return conv2d(x, minigan.tensor(np.eye(c).reshape(c, c, 1, 1), dtype=x.dtype))


def test_flatten_features_keeps_the_values_and_hands_the_gradient_back_channels_last(xp_backend, rng):
    x = t(rng.standard_normal((2, 3, 4, 5)), requires_grad=True)
    h = _feature_map(x)
    assert not h.data.flags.c_contiguous and h.data.transpose(0, 2, 3, 1).flags.c_contiguous
    y = conv.flatten_features(h)
    assert y.shape == (2, 60)
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(2, 60))  # (c, h, w) order, as torch.flatten
    r = rng.standard_normal((2, 60))
    (gh,) = minigan.grad((y * t(r)).sum(), [h])
    assert gh.data.transpose(0, 2, 3, 1).flags.c_contiguous  # the convolutions' layout
    np.testing.assert_array_equal(gh.numpy(), r.reshape(2, 3, 4, 5))
    # Any other 4-D input is a plain reshape, its gradient in the usual order.
    (gx,) = minigan.grad((conv.flatten_features(x) * t(r)).sum(), [x])
    assert gx.data.flags.c_contiguous
    np.testing.assert_array_equal(gx.numpy(), r.reshape(2, 3, 4, 5))


def test_flatten_features_first_and_second_derivatives(xp_backend, rng):
    x = t(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    assert minigan.gradcheck(lambda x: conv.flatten_features(_feature_map(x)), [x])
    assert minigan.gradgradcheck(lambda x: (conv.flatten_features(_feature_map(x)) ** 2), [x])


def test_flatten_features_keeps_float32(xp_backend, rng):
    x = minigan.tensor(rng.standard_normal((2, 3, 2, 2)), dtype="float32", requires_grad=True)
    y = conv.flatten_features(_feature_map(x))
    (g,) = minigan.grad((y * y).sum(), [x], create_graph=True)
    assert y.dtype == g.dtype == np.float32
    (g2,) = minigan.grad((g * g).sum(), [x])
    assert g2.dtype == np.float32


def test_flatten_features_refuses_what_is_not_a_feature_map():
    with pytest.raises(ValueError, match=r"expects a feature map of shape \(N, C, H, W\), got \(2, 3\)"):
        conv.flatten_features(minigan.zeros(2, 3))


# --------------------------------------------------------------------------- bad input


def test_wrong_channel_count_names_both_shapes():
    x = minigan.zeros(2, 3, 8, 8)
    with pytest.raises(ValueError, match=r"3 channels \(shape \(2, 3, 8, 8\)\).*\(4, 2, 3, 3\) expects 2"):
        conv2d(x, minigan.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"\(2, 3, 8, 8\).*\(2, 4, 3, 3\) expects 2"):
        conv_transpose2d(x, minigan.zeros(2, 4, 3, 3))


@pytest.mark.parametrize("fn", [conv2d, conv_transpose2d], ids=["conv2d", "conv_transpose2d"])
def test_three_dimensional_input_is_refused(fn):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got \(3, 8, 8\)"):
        fn(minigan.zeros(3, 8, 8), minigan.zeros(3, 3, 3, 3))
    with pytest.raises(ValueError, match="weight of shape"):
        fn(minigan.zeros(1, 3, 8, 8), minigan.zeros(3, 3, 3))


@pytest.mark.parametrize("fn", [conv2d, conv_transpose2d], ids=["conv2d", "conv_transpose2d"])
def test_integer_input_is_a_type_error(fn):
    with pytest.raises(TypeError, match="floating-point input, got int"):
        fn(minigan.tensor(np.zeros((1, 3, 8, 8), dtype=np.int64)), minigan.zeros(3, 3, 3, 3))


@pytest.mark.parametrize("fn", [conv2d, conv_transpose2d], ids=["conv2d", "conv_transpose2d"])
def test_float64_input_with_float32_weight_is_a_type_error(fn):
    with pytest.raises(TypeError, match="input is float64 but the weight is float32"):
        fn(minigan.tensor(np.zeros((1, 3, 8, 8))), minigan.zeros(3, 3, 3, 3))


def test_bias_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"conv2d: the bias has shape \(4,\), expected \(3,\)"):
        conv2d(minigan.zeros(1, 2, 5, 5), minigan.zeros(3, 2, 3, 3), minigan.zeros(4))
    with pytest.raises(ValueError, match=r"conv_transpose2d: the bias has shape \(4,\), expected \(3,\)"):
        conv_transpose2d(minigan.zeros(1, 2, 5, 5), minigan.zeros(2, 3, 3, 3), minigan.zeros(4))


def test_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"5x5 kernel is larger than the padded input \(3, 3\)"):
        conv2d(minigan.zeros(1, 1, 3, 3), minigan.zeros(1, 1, 5, 5), padding=0)
    assert conv2d(minigan.zeros(1, 1, 3, 3), minigan.zeros(1, 1, 5, 5), padding=1).shape == (1, 1, 1, 1)


def test_transpose_padding_that_leaves_no_output():
    with pytest.raises(ValueError, match="leaves no output"):
        conv_transpose2d(minigan.zeros(1, 1, 1, 1), minigan.zeros(1, 1, 2, 2), padding=1)


# --------------------------------------------------------------------------- NumPy / CuPy parity


def _conv_run(name):
    minigan.use(name)
    minigan.manual_seed(7)
    x = minigan.randn(2, 3, 8, 8, requires_grad=True)
    w = minigan.randn(4, 3, 4, 4, requires_grad=True)
    b = minigan.randn(4, requires_grad=True)
    w2 = minigan.randn(4, 2, 4, 4, requires_grad=True)
    b2 = minigan.randn(2, requires_grad=True)
    h = minigan.leaky_relu(conv2d(x, w, b, stride=2, padding=1), 0.2)
    y = minigan.tanh(conv_transpose2d(h, w2, b2, stride=2, padding=1))
    loss = (y * y).mean()
    loss.backward()
    return [y.numpy(), loss.numpy()] + [t.grad.numpy() for t in (x, w, b, w2, b2)]


def test_same_seed_same_conv_values_on_numpy_and_the_standin(standin):
    cpu = _conv_run("numpy")
    dev = _conv_run("cupy")
    assert len(cpu) == len(dev) == 7
    for a, g in zip(cpu, dev):
        assert a.dtype == g.dtype == np.float32
        np.testing.assert_array_equal(g, a)


@pytest.mark.gpu
def test_same_seed_same_conv_values_on_numpy_and_cupy():
    cpu = _conv_run("numpy")
    gpu = _conv_run("cupy")
    assert len(cpu) == len(gpu) == 7
    for a, g in zip(cpu, gpu):
        assert a.dtype == g.dtype == np.float32
        np.testing.assert_allclose(g, a, rtol=1e-5, atol=1e-6)
