"""The model zoo: exact architectures, shapes, init, conditioning, packing, seeds, dtypes, bad input."""

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.gan import models


def describe(layer):
    """A layer as (type, its defining sizes), to compare architectures against the spec."""
    if isinstance(layer, nn.Linear):
        return ("Linear", layer.in_features, layer.out_features, layer.bias is not None)
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        return (type(layer).__name__, layer.in_channels, layer.out_channels,
                layer.kernel_size, layer.stride, layer.padding, layer.bias is not None)
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return (type(layer).__name__, layer.num_features)
    if isinstance(layer, nn.LeakyReLU):
        return ("LeakyReLU", layer.negative_slope)
    if isinstance(layer, nn.Unflatten):
        return ("Unflatten", layer.dim, layer.sizes)
    if isinstance(layer, nn.Flatten):
        return ("Flatten", layer.start_dim, layer.end_dim)
    return (type(layer).__name__,)


def architecture(model):
    return [describe(layer) for layer in model.body]


def param_shapes(model):
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def mlp_g_spec(z, h, out, tanh, unflatten=None):
    spec = [("Linear", z, h, True), ("LeakyReLU", 0.2), ("Linear", h, h, True), ("LeakyReLU", 0.2),
            ("Linear", h, out, True)]
    spec += [("Tanh",)] if tanh else []
    spec += [("Unflatten", 1, unflatten)] if unflatten else []
    return spec


def mlp_d_spec(d_in, h):
    return [("Flatten", 1, -1), ("Linear", d_in, h, True), ("LeakyReLU", 0.2), ("Linear", h, h, True),
            ("LeakyReLU", 0.2), ("Linear", h, 1, True)]


def dcgan_g_spec(z, w, c=1):
    return [("Linear", z, 7 * 7 * 2 * w, True), ("BatchNorm1d", 7 * 7 * 2 * w), ("ReLU",),
            ("Unflatten", 1, (2 * w, 7, 7)),
            ("ConvTranspose2d", 2 * w, w, (4, 4), (2, 2), (1, 1), True), ("BatchNorm2d", w), ("ReLU",),
            ("ConvTranspose2d", w, c, (4, 4), (2, 2), (1, 1), True), ("Tanh",)]


def dcgan_d_spec(w, c_in=1):
    return [("Conv2d", c_in, w, (4, 4), (2, 2), (1, 1), True), ("LeakyReLU", 0.2),
            ("Conv2d", w, 2 * w, (4, 4), (2, 2), (1, 1), True), ("BatchNorm2d", 2 * w), ("LeakyReLU", 0.2),
            ("Flatten", 1, -1), ("Linear", 2 * w * 7 * 7, 1, True)]


def linear_count(i, o):
    return i * o + o


# --------------------------------------------------------------------------- architectures


def test_mlp_for_2d_points_has_no_tanh():
    G, D = models.mlp((2,))
    assert architecture(G) == mlp_g_spec(64, 256, 2, tanh=False)
    assert architecture(D) == mlp_d_spec(2, 256)
    assert param_shapes(G) == {
        "body.0.weight": (256, 64), "body.0.bias": (256,), "body.2.weight": (256, 256), "body.2.bias": (256,),
        "body.4.weight": (2, 256), "body.4.bias": (2,),
    }
    assert param_shapes(D) == {
        "body.1.weight": (256, 2), "body.1.bias": (256,), "body.3.weight": (256, 256), "body.3.bias": (256,),
        "body.5.weight": (1, 256), "body.5.bias": (1,),
    }
    assert G.num_parameters() == linear_count(64, 256) + linear_count(256, 256) + linear_count(256, 2) == 82946
    assert D.num_parameters() == linear_count(2, 256) + linear_count(256, 256) + linear_count(256, 1) == 66817
    assert (G.z_dim, G.data_shape, D.data_shape) == (64, (2,), (2,))


def test_scaled_mlp_is_the_same_networks_in_units_of_the_scale():
    """scale s: G's samples are s times the unscaled G's, D reads x / s; the weights are the same draws."""
    minigan.manual_seed(3)
    G1, D1 = models.mlp((2,), z_dim=8, hidden=16)
    minigan.manual_seed(3)
    G2, D2 = models.mlp((2,), z_dim=8, hidden=16, scale=2.5)
    assert type(G2.body[-1]) is nn.Scale and type(D2.body[1]) is nn.Scale and D2.body[1].factor == 1 / 2.5
    assert G2.num_parameters() == G1.num_parameters() and D2.num_parameters() == D1.num_parameters()
    z = minigan.tensor(np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32))
    x = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    np.testing.assert_allclose(G2(z).numpy(), 2.5 * G1(z).numpy(), rtol=1e-6)
    np.testing.assert_allclose(D2(minigan.tensor(2.5 * x)).numpy(), D1(minigan.tensor(x)).numpy(), rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        models.mlp((2,), scale=0)


def test_mlp_for_images_ends_with_tanh_and_unflatten():
    G, D = models.mlp((1, 28, 28))
    assert architecture(G) == mlp_g_spec(64, 256, 784, tanh=True, unflatten=(1, 28, 28))
    assert architecture(D) == mlp_d_spec(784, 256)
    assert param_shapes(G)["body.4.weight"] == (784, 256)
    assert param_shapes(D)["body.1.weight"] == (256, 784)
    assert G.num_parameters() == linear_count(64, 256) + linear_count(256, 256) + linear_count(256, 784) == 283920
    assert D.num_parameters() == linear_count(784, 256) + linear_count(256, 256) + linear_count(256, 1) == 267009


def test_dcgan_matches_the_paper_at_mnist_size():
    G, D = models.dcgan()
    assert architecture(G) == dcgan_g_spec(64, 64)
    assert architecture(G)[:4] == [("Linear", 64, 6272, True), ("BatchNorm1d", 6272), ("ReLU",),
                                   ("Unflatten", 1, (128, 7, 7))]
    assert architecture(D) == dcgan_d_spec(64)
    assert architecture(D)[-1] == ("Linear", 6272, 1, True)
    assert param_shapes(G) == {
        "body.0.weight": (6272, 64), "body.0.bias": (6272,), "body.1.weight": (6272,), "body.1.bias": (6272,),
        "body.4.weight": (128, 64, 4, 4), "body.4.bias": (64,), "body.5.weight": (64,), "body.5.bias": (64,),
        "body.7.weight": (64, 1, 4, 4), "body.7.bias": (1,),
    }
    assert param_shapes(D) == {
        "body.0.weight": (64, 1, 4, 4), "body.0.bias": (64,), "body.2.weight": (128, 64, 4, 4),
        "body.2.bias": (128,), "body.3.weight": (128,), "body.3.bias": (128,),
        "body.6.weight": (1, 6272), "body.6.bias": (1,),
    }
    g_count = linear_count(64, 6272) + 2 * 6272 + (128 * 64 * 16 + 64) + 2 * 64 + (64 * 16 + 1)
    d_count = (64 * 16 + 64) + (64 * 128 * 16 + 128) + 2 * 128 + linear_count(6272, 1)
    assert G.num_parameters() == g_count == 552513
    assert D.num_parameters() == d_count == 138817
    # the BatchNorm running statistics are buffers: in the state_dict, not among the parameters
    assert [k for k in G.state_dict() if "running" in k] == [
        "body.1.running_mean", "body.1.running_var", "body.5.running_mean", "body.5.running_var"]
    assert [k for k in D.state_dict() if "running" in k] == ["body.3.running_mean", "body.3.running_var"]


def test_widths_z_dim_and_channels_are_configurable():
    G, D = models.mlp((2,), z_dim=8, hidden=16)
    assert architecture(G) == mlp_g_spec(8, 16, 2, tanh=False)
    assert architecture(D) == mlp_d_spec(2, 16)
    G, D = models.dcgan((3, 28, 28), z_dim=16, width=8)
    assert architecture(G) == dcgan_g_spec(16, 8, c=3)
    assert architecture(D) == dcgan_d_spec(8, c_in=3)
    assert G(minigan.randn(2, 16)).shape == (2, 3, 28, 28)
    # build passes width through as the MLP's hidden size or the DCGAN's w
    assert architecture(models.build("mlp", (2,), z_dim=8, width=16)[0]) == mlp_g_spec(8, 16, 2, tanh=False)
    assert architecture(models.build("dcgan", (1, 28, 28), z_dim=16, width=8)[1]) == dcgan_d_spec(8)
    assert architecture(models.build("mlp", (2,))[1]) == mlp_d_spec(2, 256)  # defaults
    assert architecture(models.build("dcgan", (1, 28, 28))[0]) == dcgan_g_spec(64, 64)


# --------------------------------------------------------------------------- forward


def _leaky(a):
    return np.where(a > 0, a, 0.2 * a)


def _mlp_ref(sd, x, first, tanh):
    """The MLP's forward written in NumPy from its state_dict, layers at indices first, first+2, first+4."""
    h = x
    for k, i in enumerate((first, first + 2, first + 4)):
        h = h @ sd[f"body.{i}.weight"].T + sd[f"body.{i}.bias"]
        h = _leaky(h) if k < 2 else h
    return np.tanh(h) if tanh else h


def test_mlp_forward_matches_numpy(xp_backend):
    G, D = models.mlp((2,))
    z = minigan.randn(5, 64)
    x = G(z)
    assert x.shape == (5, 2) and x.dtype == np.float32
    ref = _mlp_ref(G.state_dict(), z.numpy().astype(np.float64), 0, tanh=False)
    np.testing.assert_allclose(x.numpy(), ref, rtol=1e-4, atol=1e-6)
    logits = D(x)
    assert logits.shape == (5, 1) and logits.dtype == np.float32
    np.testing.assert_allclose(logits.numpy(), _mlp_ref(D.state_dict(), ref, 1, tanh=False), rtol=1e-4, atol=1e-6)
    # nothing squashes the toy samples: a shifted last bias moves them past 1
    G.body[4].bias.data[...] = 5.0
    assert G(z).numpy().min() > 1.0


def test_mlp_image_forward_matches_numpy(xp_backend):
    G, D = models.mlp((1, 28, 28))
    z = minigan.randn(3, 64)
    x = G(z)
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32
    ref = _mlp_ref(G.state_dict(), z.numpy().astype(np.float64), 0, tanh=True)
    np.testing.assert_allclose(x.numpy(), ref.reshape(3, 1, 28, 28), rtol=1e-4, atol=1e-6)
    G.body[4].bias.data[...] = 50.0
    np.testing.assert_allclose(G(z).numpy(), 1.0)  # tanh keeps images in [-1, 1]
    logits = D(x)
    assert logits.shape == (3, 1)
    np.testing.assert_allclose(logits.numpy(), _mlp_ref(D.state_dict(), ref, 1, tanh=False), rtol=1e-4, atol=1e-6)


def test_dcgan_forward_and_backward_shapes_range_and_float32(xp_backend):
    G, D = models.dcgan()
    x = G(minigan.randn(4, 64))
    assert x.shape == (4, 1, 28, 28) and x.dtype == np.float32
    host = x.numpy()
    assert np.abs(host).max() <= 1.0 and host.std() > 0
    logits = D(x)
    assert logits.shape == (4, 1) and logits.dtype == np.float32
    logits.mean().backward()
    for model in (G, D):
        for name, p in model.named_parameters():
            assert p.dtype == np.float32, name
            assert p.grad is not None and p.grad.dtype == np.float32 and p.grad.shape == p.shape, name
    assert np.abs(G.body[0].weight.grad.numpy()).max() > 0  # the gradient reached G's first layer
    assert all(v.dtype == np.float32 for v in G.state_dict().values())


def test_mlp_backward_is_float32(xp_backend):
    G, D = models.mlp((2,))
    D(G(minigan.randn(4, 64))).mean().backward()
    grads = [p.grad for p in list(G.parameters()) + list(D.parameters())]
    assert all(g is not None and g.dtype == np.float32 for g in grads)


# --------------------------------------------------------------------------- init and seeds


def test_dcgan_init_is_normal_0_02_with_zero_biases():
    G, D = models.dcgan()
    weights = [G.body[0], G.body[4], G.body[7], D.body[0], D.body[2], D.body[6]]
    for layer in weights:
        w = layer.weight.numpy()
        assert abs(w.mean()) < 0.1 * 0.02 * 3, describe(layer)
        assert abs(w.std() - 0.02) < 0.1 * 0.02, describe(layer)
        np.testing.assert_array_equal(layer.bias.numpy(), 0.0)
    for bn in (G.body[1], G.body[5], D.body[3]):
        gamma = bn.weight.numpy()
        assert abs(gamma.mean() - 1.0) < 0.01 and 0.01 < gamma.std() < 0.03  # N(1, 0.02), not all ones
        np.testing.assert_array_equal(bn.bias.numpy(), 0.0)
        np.testing.assert_array_equal(bn.running_mean.numpy(), 0.0)
        np.testing.assert_array_equal(bn.running_var.numpy(), 1.0)


def test_mlp_keeps_pytorch_default_init():
    G, _ = models.mlp((2,))
    w = G.body[2].weight.numpy()  # U(-1/sqrt(256), 1/sqrt(256))
    assert np.abs(w).max() <= 1 / 16 and np.abs(w).max() > 0.9 / 16
    assert np.abs(G.body[2].bias.numpy()).max() > 0  # biases drawn too, not zero


def _state_equal(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("build", [lambda: models.mlp((2,)), lambda: models.dcgan(width=8)], ids=["mlp", "dcgan"])
def test_same_seed_same_weights_other_seed_other_weights(build):
    minigan.manual_seed(7)
    G1, D1 = build()
    minigan.manual_seed(7)
    G2, D2 = build()
    minigan.manual_seed(8)
    G3, D3 = build()
    assert _state_equal(G1.state_dict(), G2.state_dict()) and _state_equal(D1.state_dict(), D2.state_dict())
    for a, b in ((G1, G3), (D1, D3)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        first = next(k for k in sa if k.endswith("weight"))
        assert not np.array_equal(sa[first], sb[first])
        assert not _state_equal(sa, sb)


# --------------------------------------------------------------------------- conditional GANs


def test_conditional_mlp_concatenates_one_hot_labels(xp_backend):
    G, D = models.mlp((2,), n_classes=10)
    assert architecture(G)[0] == ("Linear", 74, 256, True)
    assert architecture(D)[1] == ("Linear", 12, 256, True)
    z, y = minigan.randn(4, 64), np.array([0, 3, 9, 3])
    x = G(z, y)
    assert x.shape == (4, 2) and D(x, y).shape == (4, 1)
    onehot = np.eye(10)[y]
    ref = _mlp_ref(G.state_dict(), np.concatenate([z.numpy(), onehot], axis=1), 0, tanh=False)
    np.testing.assert_allclose(x.numpy(), ref, rtol=1e-4, atol=1e-6)
    d_ref = _mlp_ref(D.state_dict(), np.concatenate([x.numpy(), onehot], axis=1), 1, tanh=False)
    np.testing.assert_allclose(D(x, y).numpy(), d_ref, rtol=1e-4, atol=1e-6)
    assert not np.allclose(G(z, np.array([1, 1, 1, 1])).numpy(), x.numpy())  # the label changes the sample


def test_projection_d_adds_the_labels_embedding_dotted_with_d_features(xp_backend):
    G, D = models.mlp((1, 28, 28), hidden=16, n_classes=10, projection=True)
    assert isinstance(D, models.ProjectionDiscriminator)
    assert architecture(G)[0] == ("Linear", 74, 16, True)  # G still reads z ⊕ one_hot(y)
    assert architecture(D) == mlp_d_spec(784, 16)[:-1] and describe(D.head) == ("Linear", 16, 1, True)
    x, y = minigan.randn(4, 1, 28, 28), np.array([0, 3, 9, 3])
    assert np.all(D.label.weight.numpy() == 0)  # at the start D ignores y: the unconditional D
    np.testing.assert_array_equal(D(x, y).numpy(), D(x, np.array([5, 5, 5, 5])).numpy())
    D.label.weight.data[...] = D.label.weight.data + minigan.randn(10, 16).data
    sd = {k: np.asarray(minigan.backend.to_numpy(v), dtype=np.float64) for k, v in D.state_dict().items()}
    h = x.numpy().reshape(4, -1).astype(np.float64)
    for i in (1, 3):
        h = _leaky(h @ sd[f"body.{i}.weight"].T + sd[f"body.{i}.bias"])
    ref = h @ sd["head.weight"].T + sd["head.bias"] + (h * sd["label.weight"][y]).sum(1, keepdims=True)
    np.testing.assert_allclose(D(x, y).numpy(), ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="give n_classes too"):
        models.mlp((2,), projection=True)
    with pytest.raises(ValueError, match="cannot be combined"):
        models.mlp((2,), n_classes=10, pack=2, projection=True)
    with pytest.raises(ValueError, match="call it with labels"):
        D(x)


def test_conditional_dcgan_shapes_and_label_embeddings(xp_backend):
    G, D = models.dcgan(n_classes=10, width=8)
    assert architecture(G)[0] == ("Linear", 74, 7 * 7 * 16, True)
    assert architecture(D)[0] == ("Conv2d", 2, 8, (4, 4), (2, 2), (1, 1), True)  # the label is one more channel
    assert tuple(G.label.weight.shape) == (10, 10) and tuple(D.label.weight.shape) == (10, 784)
    # the embeddings keep N(0, 1): DCGAN's init touches the bodies only
    assert 0.8 < D.label.weight.numpy().std() < 1.2
    z, y = minigan.randn(4, 64), np.array([0, 1, 2, 9])
    x = G(z, y)
    assert x.shape == (4, 1, 28, 28) and np.abs(x.numpy()).max() <= 1.0
    assert D(x, y).shape == (4, 1)


@pytest.mark.parametrize("build", [lambda: models.mlp((2,), n_classes=10), lambda: models.dcgan(n_classes=10, width=8)],
                         ids=["mlp", "dcgan"])
def test_conditional_models_need_labels(build):
    G, D = build()
    z = minigan.randn(2, 64)
    with pytest.raises(ValueError) as info:
        G(z)
    assert str(info.value) == "Generator is conditional (10 classes): call it with labels, e.g. G(z, y)."
    x = G(z, np.array([1, 2]))
    with pytest.raises(ValueError, match=r"^Discriminator is conditional \(10 classes\): call it with labels"):
        D(x)


@pytest.mark.parametrize("build", [lambda: models.mlp((2,)), lambda: models.dcgan(width=8)], ids=["mlp", "dcgan"])
def test_unconditional_models_refuse_labels(build):
    G, D = build()
    z, y = minigan.randn(2, 64), np.array([1, 2])
    with pytest.raises(ValueError) as info:
        G(z, y)
    assert str(info.value) == "Generator is unconditional: call it without labels."
    with pytest.raises(ValueError, match="^Discriminator is unconditional: call it without labels.$"):
        D(G(z), y)


# --------------------------------------------------------------------------- PacGAN


def test_packed_mlp_judges_consecutive_pairs(xp_backend):
    G, D = models.mlp((2,), pack=2)
    assert architecture(D)[1] == ("Linear", 4, 256, True)
    assert architecture(G) == mlp_g_spec(64, 256, 2, tanh=False)  # G is untouched by packing
    x = G(minigan.randn(6, 64))
    logits = D(x)
    assert logits.shape == (3, 1)
    ref = _mlp_ref(D.state_dict(), x.numpy().reshape(3, 4), 1, tanh=False)  # rows (x0, x1), (x2, x3), (x4, x5)
    np.testing.assert_allclose(logits.numpy(), ref, rtol=1e-4, atol=1e-6)


def test_packed_dcgan_stacks_channels(xp_backend):
    G, D = models.dcgan(width=8, pack=2)
    assert architecture(D)[0] == ("Conv2d", 2, 8, (4, 4), (2, 2), (1, 1), True)
    assert D(G(minigan.randn(4, 64))).shape == (2, 1)
    G, D = models.dcgan(width=8, pack=2, n_classes=10)
    assert architecture(D)[0] == ("Conv2d", 4, 8, (4, 4), (2, 2), (1, 1), True)  # (image + label) x 2
    y = np.array([0, 1, 2, 3])
    assert D(G(minigan.randn(4, 64), y), y).shape == (2, 1)


@pytest.mark.parametrize("build", [lambda: models.mlp((2,), pack=2), lambda: models.dcgan(width=8, pack=2)],
                         ids=["mlp", "dcgan"])
def test_packed_discriminator_refuses_an_odd_batch(build):
    G, D = build()
    with pytest.raises(ValueError) as info:
        D(G(minigan.randn(3, 64)))
    assert str(info.value) == "D packs 2 samples at a time: the batch (3) must be a multiple of it."


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("shape", [(4, 63), (4,), (4, 64, 1)])
def test_wrong_noise_shape_names_both_shapes(shape):
    G, _ = models.mlp((2,))
    with pytest.raises(ValueError) as info:
        G(minigan.randn(*shape))
    assert str(info.value) == f"G expects noise z of shape (N, 64), got {shape}."


@pytest.mark.parametrize(
    "build, shape, expected",
    [
        (lambda: models.mlp((2,)), (4, 3), "(N, 2)"),
        (lambda: models.mlp((2,)), (4,), "(N, 2)"),
        (lambda: models.mlp((1, 28, 28)), (4, 784), "(N, 1, 28, 28)"),
        (lambda: models.dcgan(width=8), (4, 1, 27, 28), "(N, 1, 28, 28)"),
        (lambda: models.dcgan(width=8), (4, 3, 28, 28), "(N, 1, 28, 28)"),
    ],
)
def test_wrong_sample_shape_names_both_shapes(build, shape, expected):
    _, D = build()
    with pytest.raises(ValueError) as info:
        D(minigan.randn(*shape))
    assert str(info.value) == f"D expects samples of shape {expected}, got {shape}."


def test_init_dcgan_draws_the_papers_weights_and_leaves_embeddings_alone():
    net = nn.Sequential(
        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(512), nn.Conv2d(32, 64, 4), nn.Linear(100, 256),
        nn.Embedding(10, 100),
    )
    emb_before = net[4].weight.numpy().copy()
    assert models.init_dcgan_(net) is net
    for i in (0, 2, 3):
        w = net[i].weight.numpy()
        assert abs(w.std() / 0.02 - 1) < 0.1 and abs(w.mean()) < 0.002, repr(net[i])
        np.testing.assert_array_equal(net[i].bias.numpy(), 0.0)
    gamma = net[1].weight.numpy()
    assert abs(gamma.mean() - 1) < 0.005 and abs(gamma.std() / 0.02 - 1) < 0.1
    np.testing.assert_array_equal(net[1].bias.numpy(), 0.0)
    np.testing.assert_array_equal(net[4].weight.numpy(), emb_before)  # embeddings keep N(0, 1)
    assert all(p.dtype == np.float32 for p in net.parameters())


def test_unknown_model_name_raises():
    with pytest.raises(ValueError) as info:
        models.build("resnet", (2,))
    assert str(info.value) == "unknown model 'resnet': choose one of mlp, dcgan."
    assert models.MODELS == ("mlp", "dcgan")


@pytest.mark.parametrize("shape", [(2,), (784,), (1, 32, 32), (28, 28)])
def test_dcgan_refuses_data_that_is_not_28_by_28_images(shape):
    with pytest.raises(ValueError) as info:
        models.dcgan(shape)
    message = str(info.value)
    assert f"got data of shape {shape}" in message and "28 x 28" in message and "use the mlp model" in message
    assert "--" not in message  # the library names no command-line flag
    with pytest.raises(ValueError, match="28 x 28"):
        models.build("dcgan", shape)


# --------------------------------------------------------------------------- how D hears y


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_projection_d_starts_deaf_to_y_then_its_output_depends_on_y(xp_backend, model):
    """A projection D begins as the unconditional D (its label embedding is 0); once the embedding
    moves, the same x scored under two labels differs by <embed(y1) - embed(y2), phi(x)>."""
    G, D = models.build(model, (1, 28, 28), width=8, n_classes=10, condition="projection")
    assert isinstance(D, models.ProjectionDiscriminator)
    x = minigan.randn(4, 1, 28, 28)
    y1, y2 = np.array([0, 1, 2, 3]), np.array([9, 8, 7, 6])
    np.testing.assert_array_equal(D(x, y1).numpy(), D(x, y2).numpy())
    D.label.weight.data[...] = D.label.weight.data + minigan.randn(*D.label.weight.shape).data
    with minigan.no_grad():
        phi = D.body(x).numpy()
        diff = D(x, y1).numpy() - D(x, y2).numpy()
    w = minigan.backend.to_numpy(D.label.weight.data)
    np.testing.assert_allclose(diff[:, 0], ((w[y1] - w[y2]) * phi).sum(1), rtol=1e-3, atol=1e-3)
    assert np.abs(diff).min() > 1e-3


def test_the_concat_dcgan_d_depends_on_y_from_the_start(xp_backend):
    G, D = models.build("dcgan", (1, 28, 28), width=8, n_classes=10, condition="concat")
    assert not isinstance(D, models.ProjectionDiscriminator)
    x = minigan.randn(4, 1, 28, 28)
    assert np.abs(D(x, np.array([0, 1, 2, 3])).numpy() - D(x, np.array([9, 8, 7, 6])).numpy()).min() > 0


def test_gradients_through_the_dcgan_projection_d_first_and_second_order(xp_backend):
    """Every weight of the projection D (the embedding included) and its input get their gradient
    checked against central differences in float64, first and second order (the gradient penalty's).
    The input is checked along 3 random directions (x = x0 + t @ dirs), to keep the check small."""
    minigan.manual_seed(3)
    _, D = models.dcgan((1, 28, 28), width=1, n_classes=2, projection=True)
    D.double()
    D.label.weight.data[...] = minigan.randn(*D.label.weight.shape, dtype="float64").data
    x0 = minigan.randn(2, 1, 28, 28, dtype="float64")
    dirs = minigan.randn(3, 2 * 28 * 28, dtype="float64")
    t = minigan.randn(3, dtype="float64", requires_grad=True)
    y = np.array([0, 1])

    def score(*_):
        return D(x0 + minigan.reshape(minigan.matmul(minigan.reshape(t, (1, 3)), dirs), (2, 1, 28, 28)), y)

    assert minigan.gradcheck(score, [t, *D.parameters()])
    assert minigan.gradgradcheck(score, [t, D.label.weight, D.head.weight])


def test_build_names_the_conditions():
    with pytest.raises(ValueError, match="unknown `condition` 'film': choose one of projection, concat"):
        models.build("mlp", (2,), n_classes=10, condition="film")
    with pytest.raises(ValueError, match="give n_classes too"):
        models.dcgan(projection=True)


def test_mlp_depth_and_ds_own_width_and_depth():
    G, D = models.mlp((2,), z_dim=3, hidden=8, depth=3, d_hidden=5, d_depth=1)
    g_lin = [m for m in G.body if isinstance(m, nn.Linear)]
    d_lin = [m for m in D.body if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in g_lin] == [(3, 8), (8, 8), (8, 8), (8, 2)]
    assert [(m.in_features, m.out_features) for m in d_lin] == [(2, 5), (5, 1)]
    assert sum(isinstance(m, nn.LeakyReLU) for m in G.body) == 3
    assert G(minigan.randn(4, 3)).shape == (4, 2) and D(minigan.randn(4, 2)).shape == (4, 1)
    with pytest.raises(ValueError, match="`d_depth` must be at least 1, got 0."):
        models.mlp((2,), depth=2, d_depth=0)


def test_mlp_at_its_default_depth_keeps_the_layout_checkpoints_name():
    """depth 2 is the layout every saved run has: the same parameter names and shapes as before."""
    G, D = models.build("mlp", (2,), z_dim=4, width=6)
    assert [(k, p.shape) for k, p in G.named_parameters()] == [
        ("body.0.weight", (6, 4)), ("body.0.bias", (6,)), ("body.2.weight", (6, 6)), ("body.2.bias", (6,)),
        ("body.4.weight", (2, 6)), ("body.4.bias", (2,))]
    assert [k for k, _ in D.named_parameters()] == [f"body.{i}.{w}" for i in (1, 3, 5) for w in ("weight", "bias")]
