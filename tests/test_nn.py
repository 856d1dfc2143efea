"""Tests of minigan.nn: every layer against a direct NumPy computation, gradient checks
(first and second order) on every backend, float32 kept end to end, and the Module
machinery (registration, freezing, state dicts, modes, repr, initialisation)."""

import math

import numpy as np
import pytest

import minigan
from minigan import backend, nn
from minigan.nn import init

# --------------------------------------------------------------------------- helpers


def host(t):
    return backend.to_numpy(t.data if isinstance(t, minigan.Tensor) else t)


def make(rng, *shape, dtype="float32", requires_grad=True):
    """A random tensor on the current backend."""
    return minigan.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)


def away_from_zero(rng, *shape, dtype="float64"):
    """Values with |x| in [0.1, 1]: no kink of ReLU/LeakyReLU within a finite-difference step."""
    x = rng.uniform(0.1, 1.0, shape) * rng.choice([-1.0, 1.0], shape)
    return minigan.tensor(x, dtype=dtype, requires_grad=True)


def conv2d_reference(x, w, b, stride, padding):
    """Convolution by its definition: for each output pixel, the patch it sees times the kernel."""
    (sh, sw), (ph, pw) = stride, padding
    n, _, h, wd = x.shape
    oc, _, kh, kw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xpad[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def conv_transpose2d_reference(x, w, b, stride, padding):
    """Transposed convolution by its definition: every input pixel adds pixel * kernel into the
    output at (stride*i, stride*j); then `padding` rows/columns are cropped from each border."""
    (sh, sw), (ph, pw) = stride, padding
    n, _, h, wd = x.shape
    _, oc, kh, kw = w.shape
    full = np.zeros((n, oc, (h - 1) * sh + kh, (wd - 1) * sw + kw))
    for i in range(h):
        for j in range(wd):
            full[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    y = full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def randomize_(module, rng):
    """Random parameters (so BatchNorm's gamma = 1, beta = 0 do not hide mistakes)."""
    for p in module.parameters():
        p.data[...] = backend.current().asarray(rng.standard_normal(p.shape).astype(p.dtype))
    return module


class SeededDropout(nn.Module):
    """Dropout that draws the same mask on every call, so central differences see one function."""

    def __init__(self, p):
        super().__init__()
        self.drop = nn.Dropout(p)

    def forward(self, x):
        minigan.manual_seed(5)
        return self.drop(x)


# --------------------------------------------------------------------------- forward values


def test_linear_forward_matches_numpy(xp_backend, rng):
    layer = nn.Linear(4, 3)
    x = make(rng, 5, 4, requires_grad=False)
    y = layer(x)
    expected = host(x) @ host(layer.weight).T + host(layer.bias)
    np.testing.assert_allclose(host(y), expected, rtol=1e-5, atol=1e-6)
    no_bias = nn.Linear(4, 3, bias=False)
    np.testing.assert_allclose(host(no_bias(x)), host(x) @ host(no_bias.weight).T, rtol=1e-5, atol=1e-6)
    # Leading axes are batch axes, as in PyTorch.
    x3 = make(rng, 2, 5, 4, requires_grad=False)
    expected3 = host(x3) @ host(layer.weight).T + host(layer.bias)
    np.testing.assert_allclose(host(layer(x3)), expected3, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "cin, cout, kernel, stride, padding, bias",
    [(2, 3, 3, 1, 1, True), (3, 2, (2, 3), (2, 1), (1, 0), True), (1, 4, 4, 2, 1, False)],
)
def test_conv2d_forward_matches_naive_loop(xp_backend, rng, cin, cout, kernel, stride, padding, bias):
    layer = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=bias)
    x = make(rng, 2, cin, 6, 5, requires_grad=False)
    y = layer(x)
    expected = conv2d_reference(
        host(x).astype(np.float64), host(layer.weight).astype(np.float64),
        None if layer.bias is None else host(layer.bias), layer.stride, layer.padding,
    )
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "cin, cout, kernel, stride, padding, bias",
    [(3, 2, 4, 2, 1, True), (2, 3, (3, 2), (1, 2), (0, 1), True), (2, 2, 3, 1, 0, False)],
)
def test_conv_transpose2d_forward_matches_scatter_definition(xp_backend, rng, cin, cout, kernel, stride, padding, bias):
    layer = nn.ConvTranspose2d(cin, cout, kernel, stride=stride, padding=padding, bias=bias)
    assert layer.weight.shape == (cin, cout) + layer.kernel_size
    x = make(rng, 2, cin, 3, 4, requires_grad=False)
    y = layer(x)
    expected = conv_transpose2d_reference(
        host(x).astype(np.float64), host(layer.weight).astype(np.float64),
        None if layer.bias is None else host(layer.bias), layer.stride, layer.padding,
    )
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-5, atol=1e-5)


def test_conv_transpose2d_doubles_the_image_as_in_dcgan():
    assert nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)(minigan.randn(1, 8, 7, 7)).shape == (1, 4, 14, 14)


@pytest.mark.parametrize("layer_cls, shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm2d, (3, 2, 4, 5))])
def test_batchnorm_training_formula_and_running_stats(xp_backend, rng, layer_cls, shape):
    c = shape[1]
    layer = randomize_(layer_cls(c, momentum=0.3), rng)
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    count = int(np.prod([shape[a] for a in axes]))
    gamma, beta = host(layer.weight), host(layer.bias)
    running_mean, running_var = np.zeros(c), np.ones(c)
    for _ in range(2):  # two steps: the running stats must accumulate with the momentum
        x = make(rng, *shape, requires_grad=False)
        xh = host(x).astype(np.float64)
        y = layer(x)
        mu, var = xh.mean(axis=axes, keepdims=True), xh.var(axis=axes, keepdims=True)  # biased
        bshape = (1, c) + (1,) * (len(shape) - 2)
        expected = (xh - mu) / np.sqrt(var + 1e-5) * gamma.reshape(bshape) + beta.reshape(bshape)
        np.testing.assert_allclose(host(y), expected, rtol=1e-4, atol=1e-5)
        running_mean = 0.7 * running_mean + 0.3 * mu.reshape(c)
        running_var = 0.7 * running_var + 0.3 * var.reshape(c) * count / (count - 1)  # unbiased
        np.testing.assert_allclose(host(layer.running_mean), running_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(host(layer.running_var), running_var, rtol=1e-5, atol=1e-6)
    assert layer.running_mean.dtype == np.float32 and layer.running_var.dtype == np.float32


@pytest.mark.parametrize("layer_cls, shape", [(nn.BatchNorm1d, (4, 3)), (nn.BatchNorm2d, (2, 3, 2, 2))])
def test_batchnorm_eval_uses_running_stats(xp_backend, rng, layer_cls, shape):
    c = shape[1]
    layer = randomize_(layer_cls(c), rng).eval()
    rm, rv = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2.0, c).astype(np.float32)
    layer.running_mean.data[...] = xp_backend.asarray(rm)
    layer.running_var.data[...] = xp_backend.asarray(rv)
    x = make(rng, *shape, requires_grad=False)
    bshape = (1, c) + (1,) * (len(shape) - 2)
    expected = (host(x) - rm.reshape(bshape)) / np.sqrt(rv.reshape(bshape) + 1e-5)
    expected = expected * host(layer.weight).reshape(bshape) + host(layer.bias).reshape(bshape)
    np.testing.assert_allclose(host(layer(x)), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(host(layer.running_mean), rm)  # eval leaves them alone
    np.testing.assert_array_equal(host(layer.running_var), rv)
    # One sample is fine in eval mode (no batch statistics are needed).
    assert layer(make(rng, 1, *shape[1:], requires_grad=False)).shape == (1,) + shape[1:]


def test_dropout_scales_kept_units_and_is_identity_in_eval(xp_backend, rng):
    p = 0.25
    drop = nn.Dropout(p)
    x = make(rng, 200, 50, requires_grad=False)
    minigan.manual_seed(11)
    y = host(drop(x))
    keep = np.random.default_rng(11).random((200, 50)) >= p  # the mask comes from the run's generator
    np.testing.assert_allclose(y, np.where(keep, host(x) / (1 - p), 0.0), rtol=1e-6)
    assert abs((y == 0).mean() - p) < 0.02
    drop.eval()
    np.testing.assert_array_equal(host(drop(x)), host(x))
    assert nn.Dropout(0.0)(x) is x


def test_flatten_and_unflatten_shapes_and_values(rng):
    x = make(rng, 2, 3, 4, 5, requires_grad=False)
    np.testing.assert_array_equal(host(nn.Flatten()(x)), host(x).reshape(2, 60))
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(0)(x).shape == (120,)
    z = make(rng, 2, 128 * 7 * 7, requires_grad=False)
    u = nn.Unflatten(1, (128, 7, 7))(z)
    assert u.shape == (2, 128, 7, 7)
    np.testing.assert_array_equal(host(u), host(z).reshape(2, 128, 7, 7))
    assert nn.Unflatten(-1, (2, 3))(make(rng, 4, 6, requires_grad=False)).shape == (4, 2, 3)
    # Round trip.
    np.testing.assert_array_equal(host(nn.Unflatten(1, (3, 4, 5))(nn.Flatten()(x))), host(x))


def test_embedding_picks_rows_and_repeated_labels_add_gradients(xp_backend):
    emb = nn.Embedding(10, 4)
    labels = np.array([3, 0, 3, 9])
    out = emb(minigan.tensor(labels))  # labels on the same backend as the weights
    np.testing.assert_array_equal(host(out), host(emb.weight)[labels])
    out.sum().backward()
    counts = np.bincount(labels, minlength=10)[:, None] * np.ones((1, 4))
    np.testing.assert_array_equal(host(emb.weight.grad), counts)
    if xp_backend.name == "numpy":  # plain host arrays and lists work on the CPU
        np.testing.assert_array_equal(host(emb(labels)), host(emb.weight)[labels])
        np.testing.assert_array_equal(host(emb([3, 0])), host(emb.weight)[[3, 0]])


def test_activations_match_numpy(xp_backend, rng):
    x = make(rng, 3, 4, requires_grad=False)
    xh = host(x).astype(np.float64)
    cases = [
        (nn.ReLU(), np.maximum(xh, 0)),
        (nn.LeakyReLU(), np.where(xh > 0, xh, 0.01 * xh)),
        (nn.LeakyReLU(0.2), np.where(xh > 0, xh, 0.2 * xh)),
        (nn.Tanh(), np.tanh(xh)),
        (nn.Sigmoid(), 1 / (1 + np.exp(-xh))),
        (nn.Scale(2.5), 2.5 * xh),
    ]
    for layer, expected in cases:
        np.testing.assert_allclose(host(layer(x)), expected, rtol=1e-6, atol=1e-7, err_msg=repr(layer))


def test_sequential_chains_indexes_and_iterates(rng):
    a, b, c = nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)
    net = nn.Sequential(a, b, c)
    assert len(net) == 3 and list(net) == [a, b, c]
    assert net[0] is a and net[-1] is c
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    x = make(rng, 5, 3, requires_grad=False)
    np.testing.assert_allclose(host(net(x)), host(c(b(a(x)))), rtol=1e-6)
    assert net.append(nn.Sigmoid()) is net and len(net) == 4
    with pytest.raises(TypeError, match="Sequential holds Modules"):
        nn.Sequential(a, np.tanh)


# --------------------------------------------------------------------------- gradient checks


def _linear(rng, dtype):
    return nn.Linear(3, 2), make(rng, 4, 3, dtype=dtype)


def _linear_no_bias(rng, dtype):
    return nn.Linear(3, 2, bias=False), make(rng, 2, 3, dtype=dtype)


def _conv(rng, dtype):
    return nn.Conv2d(2, 3, 3, stride=2, padding=1), make(rng, 1, 2, 4, 4, dtype=dtype)


def _conv_rect(rng, dtype):
    return nn.Conv2d(2, 2, (2, 3), stride=(1, 2), bias=False), make(rng, 1, 2, 3, 5, dtype=dtype)


def _conv_t(rng, dtype):
    return nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1), make(rng, 1, 2, 2, 2, dtype=dtype)


def _conv_t_dcgan(rng, dtype):
    return nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1, bias=False), make(rng, 1, 2, 2, 2, dtype=dtype)


def _bn1d(rng, dtype):
    return randomize_(nn.BatchNorm1d(3), rng), make(rng, 4, 3, dtype=dtype)


def _bn2d(rng, dtype):
    return randomize_(nn.BatchNorm2d(2), rng), make(rng, 2, 2, 2, 2, dtype=dtype)


def _bn2d_eval(rng, dtype):
    layer = randomize_(nn.BatchNorm2d(2), rng).eval()
    layer.running_mean.data[...] = backend.current().asarray(np.array([0.5, -1.0], dtype=np.float32))
    layer.running_var.data[...] = backend.current().asarray(np.array([2.0, 0.5], dtype=np.float32))
    return layer, make(rng, 2, 2, 2, 2, dtype=dtype)


def _embedding(rng, dtype):
    return nn.Embedding(5, 3), minigan.tensor(np.array([4, 1, 1, 0]))


def _relu(rng, dtype):
    return nn.ReLU(), away_from_zero(rng, 3, 4, dtype=dtype)


def _leaky(rng, dtype):
    return nn.LeakyReLU(0.2), away_from_zero(rng, 3, 4, dtype=dtype)


def _tanh(rng, dtype):
    return nn.Tanh(), make(rng, 3, 4, dtype=dtype)


def _sigmoid(rng, dtype):
    return nn.Sigmoid(), make(rng, 3, 4, dtype=dtype)


def _scale(rng, dtype):
    return nn.Scale(-1.7), make(rng, 3, 4, dtype=dtype)


def _dropout(rng, dtype):
    return SeededDropout(0.5), make(rng, 3, 4, dtype=dtype)


def _flatten(rng, dtype):
    return nn.Flatten(), make(rng, 2, 2, 3, dtype=dtype)


def _unflatten(rng, dtype):
    return nn.Unflatten(1, (2, 3)), make(rng, 2, 6, dtype=dtype)


def _mlp(rng, dtype):
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2), nn.Sigmoid())
    return randomize_(net, rng), make(rng, 4, 3, dtype=dtype)


FIRST_ORDER = {
    "linear": _linear, "linear_no_bias": _linear_no_bias, "conv2d": _conv, "conv2d_rect": _conv_rect,
    "conv_transpose2d": _conv_t, "conv_transpose2d_k4s2p1": _conv_t_dcgan, "batchnorm1d": _bn1d,
    "batchnorm2d": _bn2d, "batchnorm2d_eval": _bn2d_eval, "embedding": _embedding, "relu": _relu,
    "leaky_relu": _leaky, "tanh": _tanh, "sigmoid": _sigmoid, "scale": _scale, "dropout": _dropout,
    "flatten": _flatten, "unflatten": _unflatten, "mlp": _mlp,
}
SECOND_ORDER = [
    "linear", "linear_no_bias", "conv2d", "conv_transpose2d", "batchnorm1d", "batchnorm2d",
    "relu", "leaky_relu", "tanh", "sigmoid", "scale", "mlp",
]


def _grad_inputs(layer, x):
    """What the check differentiates with respect to: the input (if floating) and every parameter.

    The tensors are perturbed in place by the check, so f can simply call the layer."""
    return ([x] if x.dtype.kind == "f" else []) + list(layer.parameters())


@pytest.mark.parametrize("case", list(FIRST_ORDER))
def test_gradcheck_input_and_parameters(xp_backend, rng, case):
    layer, x = FIRST_ORDER[case](rng, "float64")
    layer.double()
    inputs = _grad_inputs(layer, x)
    assert inputs and all(t.dtype == np.float64 for t in inputs)
    assert minigan.gradcheck(lambda *_: layer(x), inputs)


@pytest.mark.parametrize("case", SECOND_ORDER)
def test_gradgradcheck_input_and_parameters(xp_backend, rng, case):
    layer, x = FIRST_ORDER[case](rng, "float64")
    layer.double()
    assert minigan.gradgradcheck(lambda *_: layer(x), _grad_inputs(layer, x))


@pytest.mark.parametrize("case", list(FIRST_ORDER))
def test_float32_in_float32_out_forward_and_backward(xp_backend, rng, case):
    layer, x = FIRST_ORDER[case](rng, "float32")
    y = layer(x)
    assert y.dtype == np.float32
    y.backward(minigan.tensor(rng.standard_normal(y.shape), dtype="float32"))
    if x.dtype.kind == "f":
        assert x.grad is not None and x.grad.dtype == np.float32
    for name, p in layer.named_parameters():
        assert p.dtype == np.float32, name
        assert p.grad is not None and p.grad.dtype == np.float32, name
    for name, b in layer.named_buffers():
        assert b.dtype == np.float32, name


# --------------------------------------------------------------------------- freezing


def test_parameters_without_requires_grad_get_no_gradient(rng):
    layer = nn.Linear(3, 2)
    layer.bias.requires_grad_(False)
    layer(make(rng, 4, 3)).sum().backward()
    assert layer.bias.grad is None
    assert layer.weight.grad is not None and layer.weight.grad.shape == (2, 3)


def test_frozen_trains_only_the_other_network_and_restores_flags(rng):
    G, D = nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    D[2].bias.requires_grad_(False)  # already frozen before the block: must stay frozen after
    before = {n: p.requires_grad for n, p in D.named_parameters()}
    z = make(rng, 5, 2, requires_grad=False)
    with nn.frozen(D) as inner:
        assert inner is D
        assert not any(p.requires_grad for p in D.parameters())
        D(G(z)).sum().backward()  # "update G through D, D fixed"
    assert all(p.grad is None for p in D.parameters())
    assert all(p.grad is not None for p in G.parameters())
    assert {n: p.requires_grad for n, p in D.named_parameters()} == before
    # Restored even when the block raises.
    with pytest.raises(RuntimeError, match="boom"), nn.frozen(G):
        raise RuntimeError("boom")
    assert all(p.requires_grad for p in G.parameters())


def test_evaluating_runs_eval_mode_and_restores_every_module_s_own_mode(rng):
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 1))
    net[2].eval()  # a sub-module already in eval mode before the block: it must stay so after
    before = [m.training for m in net.modules()]
    assert before == [True, True, True, False, True]
    x = make(rng, 8, 3, requires_grad=False)
    with nn.evaluating(net) as inner:
        assert inner is net
        assert not any(m.training for m in net.modules())
        y1, y2 = net(x).numpy(), net(x).numpy()
    np.testing.assert_array_equal(y1, y2)  # no dropout, BatchNorm's running statistics
    assert [m.training for m in net.modules()] == before
    # Restored even when the block raises.
    with pytest.raises(RuntimeError, match="boom"), nn.evaluating(net):
        raise RuntimeError("boom")
    assert [m.training for m in net.modules()] == before
    net.eval()
    with nn.evaluating(net):
        pass
    assert not any(m.training for m in net.modules())  # a model in eval mode stays in eval mode


def test_substituted_runs_the_module_with_other_weights_and_restores_them():
    lin = nn.Linear(3, 2).double()
    x = minigan.tensor(np.arange(6.0).reshape(2, 3))
    w = minigan.tensor(np.ones((2, 3)))
    b = minigan.tensor(np.array([1.0, -1.0]))
    params = list(lin.parameters())
    with nn.substituted(lin, [w, b]) as inner:
        assert inner is lin
        np.testing.assert_allclose(lin(x).numpy(), x.numpy() @ np.ones((3, 2)) + [1.0, -1.0])
    assert list(lin.parameters()) == params and isinstance(lin.weight, nn.Parameter)
    with pytest.raises(ValueError, match="has 2 parameters, got 1"):
        with nn.substituted(lin, [w]):
            pass
    with pytest.raises(RuntimeError, match="boom"), nn.substituted(lin, [w, b]):
        raise RuntimeError("boom")
    assert list(lin.parameters()) == params  # put back even when the block raises


def test_substituted_weights_make_the_output_differentiable_in_them():
    lin = nn.Linear(2, 1, bias=False).double()
    theta = minigan.tensor(np.array([[0.5, -1.0]]), requires_grad=True)
    w = theta * 3.0  # a computed weight, in the graph
    with nn.substituted(lin, [w]):
        out = lin(minigan.tensor(np.array([[1.0, 2.0]]))).sum()
    (g,) = minigan.grad(out, [theta])
    np.testing.assert_allclose(g.numpy(), [[3.0, 6.0]])  # d(3 theta . x)/d theta = 3 x
    assert lin.weight.grad is None


def test_requires_grad_and_zero_grad(rng):
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    net(make(rng, 2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    assert net.num_parameters(trainable_only=True) == 0 and net.num_parameters() == 21
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


# --------------------------------------------------------------------------- registration and traversal


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.LeakyReLU(0.2))
        self.head = nn.Linear(2 * 4 * 4, 1)
        self.drop = nn.Dropout(0.3)
        self.flatten = nn.Flatten()

    def forward(self, x):
        return self.head(self.drop(self.flatten(self.net(x))))


def test_named_parameters_buffers_children_and_modules():
    m = Critic()
    assert [n for n, _ in m.named_parameters()] == [
        "net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias", "head.weight", "head.bias",
    ]
    assert [n for n, _ in m.named_buffers()] == ["net.1.running_mean", "net.1.running_var"]
    assert all(isinstance(p, nn.Parameter) and p.is_leaf and p.requires_grad for p in m.parameters())
    assert not any(isinstance(b, nn.Parameter) or b.requires_grad for b in m.buffers())
    assert [type(c).__name__ for c in m.children()] == ["Sequential", "Linear", "Dropout", "Flatten"]
    assert [type(c).__name__ for c in m.modules()] == [
        "Critic", "Sequential", "Conv2d", "BatchNorm2d", "LeakyReLU", "Linear", "Dropout", "Flatten",
    ]
    assert m.num_parameters() == (2 * 9 + 2) + (2 + 2) + (32 + 1)


def test_shared_parameter_is_listed_once():
    a = nn.Linear(3, 3)
    net = nn.Sequential(a, nn.Tanh(), a)
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert net.num_parameters() == 12


def test_assignment_rules():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        layer.weight = minigan.zeros(2, 2)
    layer.weight = nn.Parameter(minigan.zeros(2, 2))  # a Parameter replaces the old one
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(host(layer.weight), np.zeros((2, 2)))
    layer.note = "plain attribute"
    assert layer.note == "plain attribute" and "note" not in dict(layer.named_parameters())
    del layer.bias
    assert [n for n, _ in layer.named_parameters()] == ["weight"]

    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(1)


def test_deepcopy_gives_an_independent_module(rng):
    import copy

    m = Critic()
    twin = copy.deepcopy(m)  # what an unrolled GAN or an EMA of G needs
    assert [n for n, _ in twin.named_parameters()] == [n for n, _ in m.named_parameters()]
    assert all(isinstance(p, nn.Parameter) for p in twin.parameters())
    twin.head.weight.data += 1.0
    assert np.allclose(host(twin.head.weight) - host(m.head.weight), 1.0)


def test_parameter_is_a_trainable_leaf():
    p = nn.Parameter(minigan.zeros(2))
    assert p.requires_grad and p.is_leaf and isinstance(p, minigan.Tensor)
    assert not nn.Parameter(minigan.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")


def test_train_and_eval_recurse(rng):
    m = Critic()
    assert m.training and all(c.training for c in m.modules())
    assert m.eval() is m
    assert not any(c.training for c in m.modules())
    x = make(rng, 3, 1, 4, 4, requires_grad=False)
    np.testing.assert_array_equal(host(m(x)), host(m(x)))  # no dropout, running stats: deterministic
    m.train()
    assert all(c.training for c in m.modules())
    m.net.train(False)
    assert m.training and not m.net[1].training


def test_double_and_float_convert_parameters_and_buffers(rng):
    m = Critic()
    m(make(rng, 2, 1, 4, 4)).sum().backward()
    assert m.double() is m
    assert all(t.dtype == np.float64 for t in list(m.parameters()) + list(m.buffers()))
    assert all(p.grad.dtype == np.float64 for p in m.parameters())
    assert m(make(rng, 2, 1, 4, 4, dtype="float64")).dtype == np.float64
    m.float()
    assert all(t.dtype == np.float32 for t in list(m.parameters()) + list(m.buffers()))


# --------------------------------------------------------------------------- state dict


def test_state_dict_round_trip_reproduces_outputs(xp_backend, rng):
    minigan.manual_seed(1)
    src = Critic()
    for _ in range(2):  # move the running statistics away from 0 and 1
        src(make(rng, 4, 1, 4, 4, requires_grad=False))
    sd = src.state_dict()
    assert list(sd) == [
        "net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias", "net.1.running_mean", "net.1.running_var",
        "head.weight", "head.bias",
    ]
    assert all(type(v) is np.ndarray and v.dtype == np.float32 for v in sd.values())
    sd["head.bias"][...] += 1.0  # a copy: changing it leaves the model alone
    assert not np.array_equal(host(src.head.bias), sd["head.bias"])
    sd = src.state_dict()

    minigan.manual_seed(2)
    dst = Critic()
    weight_array = dst.head.weight.data
    assert not np.array_equal(host(dst.head.weight), sd["head.weight"])
    result = dst.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.head.weight.data is weight_array  # copied in place, on the parameter's own device
    assert backend.get_array_module(dst.head.weight.data) is xp_backend.xp
    src.eval()
    dst.eval()
    x = make(rng, 3, 1, 4, 4, requires_grad=False)
    np.testing.assert_array_equal(host(dst(x)), host(src(x)))


def test_load_state_dict_errors_name_the_key():
    sd = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).state_dict()
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))
    before = host(model[0].bias).copy()
    with pytest.raises(ValueError, match=r"'0\.weight' has shape \(4, 2\) in the model but \(3, 2\)"):
        model.load_state_dict(sd)
    np.testing.assert_array_equal(host(model[0].bias), before)  # nothing copied on an error

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    partial = {k: v for k, v in sd.items() if k != "1.running_var"}
    with pytest.raises(ValueError, match=r"missing keys \['1\.running_var'\]"):
        model.load_state_dict(partial)
    with pytest.raises(ValueError, match=r"unexpected keys \['2\.weight'\]"):
        model.load_state_dict({**sd, "2.weight": np.zeros(3)})
    result = model.load_state_dict({**partial, "2.weight": np.zeros(3)}, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == ["2.weight"]
    np.testing.assert_array_equal(host(model[0].weight), sd["0.weight"])


# --------------------------------------------------------------------------- repr


def test_repr_shows_layers_and_parameter_counts():
    assert repr(nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)  # 9 parameters"
    net = nn.Sequential(nn.Linear(1000, 500), nn.LeakyReLU(0.2), nn.Linear(500, 1, bias=False))
    text = repr(net)
    assert text.splitlines() == [
        "Sequential(",
        "  (0): Linear(in_features=1000, out_features=500, bias=True)  # 500,500 parameters",
        "  (1): LeakyReLU(negative_slope=0.2)",
        "  (2): Linear(in_features=500, out_features=1, bias=False)  # 500 parameters",
        ")  # 501,000 parameters",
    ]
    with nn.frozen(net[2]):
        assert repr(net).endswith(")  # 501,000 parameters (500 frozen)")
    assert repr(nn.ReLU()) == "ReLU()"
    assert "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in repr(Critic())
    assert repr(nn.Unflatten(1, (128, 7, 7))) == "Unflatten(dim=1, unflattened_size=(128, 7, 7))"


# --------------------------------------------------------------------------- initialisation


def test_default_init_matches_pytorch_bounds():
    layer = nn.Linear(1000, 500)
    w, b = host(layer.weight), host(layer.bias)
    bound = 1 / math.sqrt(1000)
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.05  # U(-a, a) has std a / sqrt(3)
    assert abs(w.mean()) < 0.05 * bound

    conv = nn.Conv2d(16, 8, 3)
    bound = 1 / math.sqrt(16 * 9)  # fan_in = in_channels * KH * KW
    assert np.abs(host(conv.weight)).max() <= bound and np.abs(host(conv.weight)).max() > 0.95 * bound
    assert np.abs(host(conv.bias)).max() <= bound

    convt = nn.ConvTranspose2d(8, 16, 4)  # weight (8, 16, 4, 4): PyTorch's fan_in reads axis 1, 16*4*4
    bound = 1 / math.sqrt(16 * 16)
    w = host(convt.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.05
    assert init.fan_in(convt.weight) == 256 and init.fan_in(layer.weight) == 1000

    bn = nn.BatchNorm2d(5)
    for t, value in ((bn.weight, 1), (bn.bias, 0), (bn.running_mean, 0), (bn.running_var, 1)):
        np.testing.assert_array_equal(host(t), np.full(5, value, dtype=np.float32))

    emb = host(nn.Embedding(100, 50).weight)
    assert abs(emb.std() - 1) < 0.05 and abs(emb.mean()) < 0.05


def test_init_helpers_fill_in_place():
    t = minigan.zeros(200, 100)
    data = t.data
    assert init.normal_(t, 3.0, 0.5) is t and t.data is data
    assert abs(host(t).mean() - 3) < 0.01 and abs(host(t).std() - 0.5) < 0.01
    init.uniform_(t, -2.0, -1.0)
    assert host(t).min() >= -2 and host(t).max() <= -1 and t.dtype == np.float32
    np.testing.assert_array_equal(host(init.ones_(t)), 1.0)
    np.testing.assert_array_equal(host(init.zeros_(t)), 0.0)


def _all_weights(model):
    return {k: v for k, v in model.state_dict().items()}


def test_same_seed_gives_same_weights():
    def build():
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ConvTranspose2d(4, 2, 4), nn.Embedding(3, 2))

    minigan.manual_seed(7)
    a = _all_weights(build())
    minigan.manual_seed(7)
    b = _all_weights(build())
    minigan.manual_seed(8)
    c = _all_weights(build())
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.weight"], c["0.weight"])


def test_same_seed_gives_same_weights_on_every_backend(xp_backend):
    minigan.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 4), nn.Conv2d(2, 3, 3), nn.Embedding(4, 2))
    assert all(backend.get_array_module(p.data) is xp_backend.xp for p in model.parameters())
    on_device = _all_weights(model)
    minigan.use("numpy")
    minigan.manual_seed(3)
    on_host = _all_weights(nn.Sequential(nn.Linear(5, 4), nn.Conv2d(2, 3, 3), nn.Embedding(4, 2)))
    assert all(np.array_equal(on_device[k], on_host[k]) for k in on_host)


# --------------------------------------------------------------------------- bad input


def test_linear_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as err:
        nn.Linear(3, 4)(minigan.randn(8, 5))
    message = str(err.value)
    assert "(8, 5)" in message and "(4, 3)" in message and "in_features" in message


def test_conv_wrong_channel_count():
    with pytest.raises(ValueError, match=r"expects 3 input channels but got input of shape \(2, 5, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(minigan.randn(2, 5, 8, 8))
    with pytest.raises(ValueError, match=r"expects 4 input channels"):
        nn.ConvTranspose2d(4, 2, 4)(minigan.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.Conv2d(3, 8, 3)(minigan.randn(3, 8, 8))


@pytest.mark.parametrize(
    "layer", [nn.Linear(2, 2), nn.Conv2d(2, 1, 1), nn.BatchNorm1d(2), nn.ReLU(), nn.Tanh(), nn.Dropout()],
    ids=lambda m: type(m).__name__,
)
def test_integer_input_raises_type_error(layer):
    x = minigan.tensor(np.ones((2, 2, 1, 1), dtype=np.int64) if isinstance(layer, nn.Conv2d) else np.ones((2, 2), int))
    with pytest.raises(TypeError, match=r"floating-point input, got int64: convert it with x.astype\('float32'\)"):
        layer(x)


def test_other_bad_inputs():
    with pytest.raises(TypeError, match=r"wrap it with minigan.tensor\(x\)"):
        nn.Linear(2, 2)(np.ones((1, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"C = 3, got \(4, 5\): check num_features"):
        nn.BatchNorm1d(3)(minigan.randn(4, 5))
    with pytest.raises(ValueError, match="use BatchNorm1d after Linear, BatchNorm2d after Conv2d"):
        nn.BatchNorm1d(3)(minigan.randn(4, 3, 2, 2))
    with pytest.raises(ValueError, match="batch larger than 1"):
        nn.BatchNorm1d(3)(minigan.randn(1, 3))
    with pytest.raises(ValueError, match=r"must be in \[0, 1\)"):
        nn.Dropout(1.0)
    with pytest.raises(ValueError, match=r"cannot split axis 1 of size 10 .* must multiply to 10"):
        nn.Unflatten(1, (3, 3))(minigan.randn(2, 10))
    with pytest.raises(ValueError, match="needs axis 1"):
        nn.Flatten()(minigan.randn(4))
    with pytest.raises(TypeError, match="integer labels"):
        nn.Embedding(3, 2)(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        nn.Embedding(3, 2)(np.array([0, 3]))
