"""Exercise im2col: the patch matrix that makes a convolution one matrix product (minigan/autograd/conv.py, im2col)."""

import numpy as np
import pytest

import minigan
from minigan.autograd import conv

# (N, C, H, W), kernel, stride, pad
CASES = {
    "k3-s1-p0": ((2, 3, 5, 5), (3, 3), (1, 1), (0, 0)),
    "k3-s1-p1": ((1, 2, 4, 4), (3, 3), (1, 1), (1, 1)),
    "k4-s2-p1": ((2, 2, 6, 6), (4, 4), (2, 2), (1, 1)),
    "k(3,2)-s(2,1)-p(1,0)-uneven": ((1, 3, 7, 5), (3, 2), (2, 1), (1, 0)),
}


def im2col_by_definition(x, kernel, stride, pad):
    """col[n, oh, ow, i, j, c] = x_pad[n, c, s oh + i, s ow + j], one element at a time."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    col = np.zeros((n, oh, ow, kh, kw, c))
    for a in range(oh):
        for b in range(ow):
            for i in range(kh):
                for j in range(kw):
                    col[:, a, b, i, j, :] = xp[:, :, sh * a + i, sw * b + j]
    return col


def conv2d_by_definition(x, w, stride, pad):
    """y[n, o, oh, ow] = sum_{c,i,j} W[o, c, i, j] x_pad[n, c, s oh + i, s ow + j]."""
    col = im2col_by_definition(x, w.shape[2:], stride, pad)
    return np.einsum("nabijc,ocij->noab", col, w)


@pytest.mark.parametrize("name", list(CASES))
def test_im2col_matches_the_definition(name, rng):
    shape, kernel, stride, pad = CASES[name]
    x = rng.standard_normal(shape)
    col = conv.im2col(x, kernel, stride, pad)
    assert col.shape == im2col_by_definition(x, kernel, stride, pad).shape
    np.testing.assert_array_equal(col, im2col_by_definition(x, kernel, stride, pad))


@pytest.mark.parametrize("name", list(CASES))
def test_conv2d_matches_the_definition(name, rng):
    shape, kernel, stride, pad = CASES[name]
    x = rng.standard_normal(shape)
    w = rng.standard_normal((4, shape[1], *kernel))
    y = minigan.conv2d(minigan.tensor(x), minigan.tensor(w), stride=stride, padding=pad)
    np.testing.assert_allclose(y.numpy(), conv2d_by_definition(x, w, stride, pad), rtol=1e-10, atol=1e-12)


def test_float32_stays_float32(rng):
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    assert conv.im2col(x, (3, 3), (1, 1), (1, 1)).dtype == np.float32


def test_conv2d_weight_gradient_matches_central_differences(rng):
    x = minigan.tensor(rng.standard_normal((1, 2, 5, 4)))
    w = minigan.tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)
    assert minigan.gradcheck(lambda w: minigan.conv2d(x, w, stride=2, padding=1), [w])
