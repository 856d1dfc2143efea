"""Tests of minigan.autograd.conv: conv2d and conv_transpose2d against references written from the
definition, their adjointness (and im2col/col2im's), first and second derivatives with
respect to input, weight and bias on every backend, float32 kept, the DCGAN shapes, the
errors a user can cause, and NumPy/CuPy parity."""

import ast
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


@pytest.mark.gpu
def test_same_seed_same_conv_values_on_numpy_and_cupy():
    cpu = _conv_run("numpy")
    gpu = _conv_run("cupy")
    assert len(cpu) == len(gpu) == 7
    for a, g in zip(cpu, gpu):
        assert a.dtype == g.dtype == np.float32
        np.testing.assert_allclose(g, a, rtol=1e-5, atol=1e-6)
