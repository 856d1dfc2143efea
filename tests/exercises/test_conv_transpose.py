"""Exercise conv-transpose: the transposed convolution (minigan/autograd/conv.py, ConvTranspose2d.forward)."""

import numpy as np
import pytest

import minigan
from minigan.autograd import conv

# (N, IC, H, W), (IC, OC, KH, KW), stride, pad
CASES = {
    "k4-s2-p1-dcgan": ((2, 3, 3, 3), (3, 2, 4, 4), (2, 2), (1, 1)),
    "k3-s1-p0": ((1, 2, 4, 4), (2, 3, 3, 3), (1, 1), (0, 0)),
    "k(3,2)-s(2,1)-p(1,0)": ((1, 2, 3, 4), (2, 2, 3, 2), (2, 1), (1, 0)),
}


def conv_transpose2d_by_definition(x, w, stride, pad):
    """Each input pixel stamps the kernel, weighted by x, at output (s h - p + i, s w - p + j)."""
    n, ic, h, wd = x.shape
    _, oc, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, pad
    full = np.zeros((n, oc, sh * (h - 1) + kh, sw * (wd - 1) + kw))
    for a in range(h):
        for b in range(wd):
            stamp = np.einsum("nc,coij->noij", x[:, :, a, b], w)
            full[:, :, sh * a : sh * a + kh, sw * b : sw * b + kw] += stamp
    return full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]


@pytest.mark.parametrize("bias", [False, True], ids=["nobias", "bias"])
@pytest.mark.parametrize("name", list(CASES))
def test_conv_transpose2d_matches_the_definition(name, bias, rng):
    xs, ws, stride, pad = CASES[name]
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[1]) if bias else None
    y = minigan.conv_transpose2d(minigan.tensor(x), minigan.tensor(w), None if b is None else minigan.tensor(b),
                                 stride=stride, padding=pad)
    expected = conv_transpose2d_by_definition(x, w, stride, pad)
    if b is not None:
        expected = expected + b.reshape(1, -1, 1, 1)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_kernel_4_stride_2_padding_1_doubles_the_image(rng):
    x = minigan.tensor(rng.standard_normal((1, 2, 7, 7)).astype(np.float32))
    w = minigan.tensor(rng.standard_normal((2, 1, 4, 4)).astype(np.float32))
    y = minigan.conv_transpose2d(x, w, stride=2, padding=1)
    assert y.shape == (1, 1, 14, 14) and y.dtype == np.float32
    expected = conv_transpose2d_by_definition(x.numpy().astype(float), w.numpy().astype(float), (2, 2), (1, 1))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_it_is_the_adjoint_of_conv2d(rng):
    """<conv2d(x, W), u> = <x, conv_transpose2d(u, W)> for every x and u."""
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 4, 4))
    u = rng.standard_normal((2, 4, 3, 3))
    y = minigan.conv2d(minigan.tensor(x), minigan.tensor(w), stride=2, padding=1)
    back = minigan.conv_transpose2d(minigan.tensor(u), minigan.tensor(w), stride=2, padding=1)
    assert np.sum(y.numpy() * u) == pytest.approx(np.sum(x * back.numpy()), rel=1e-10)


def test_it_equals_the_librarys_fused_block_loop(rng):
    """Large layers run a fast path, conv._conv_transpose_blocks: your product + col2im computes the same."""
    for xs, ws, stride, pad in CASES.values():
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        assert not conv.uses_block_loop(x, w)  # these sizes run your version
        y = minigan.conv_transpose2d(minigan.tensor(x), minigan.tensor(w), stride=stride, padding=pad)
        fused = conv._conv_transpose_blocks(x, w, stride, pad, y.shape[2:])
        np.testing.assert_allclose(y.numpy(), fused, rtol=1e-12, atol=1e-12)


def test_conv2d_input_gradient_matches_central_differences(rng):
    """conv2d's backward with respect to its input is a transposed convolution, here with an uneven size."""
    x = minigan.tensor(rng.standard_normal((1, 2, 6, 5)), requires_grad=True)
    w = minigan.tensor(rng.standard_normal((3, 2, 3, 3)))
    assert minigan.gradcheck(lambda x: minigan.conv2d(x, w, stride=2, padding=1), [x])
