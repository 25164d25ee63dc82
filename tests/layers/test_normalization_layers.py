"""Normalization layers: harness, NumPy/torch references, Keras weight layouts, argument errors."""
import numpy as np
import pytest

from deepcore import layers

from layer_harness import run_layer_test

rng = np.random.default_rng(23)


@pytest.mark.parametrize("cls,kwargs,shape,n_weights,n_trainable", [
    (layers.BatchNormalization, {"axis": 1}, (4, 3, 5), 4, 2),
    (layers.BatchNormalization, {"axis": -2, "center": False}, (4, 3, 2, 5), 3, 1),
    (layers.BatchNormalization, {"scale": False, "center": False}, (4, 3), 2, 0),
    (layers.LayerNormalization, {}, (2, 3, 4), 2, 2),
    (layers.LayerNormalization, {"axis": [1, 2], "center": False}, (2, 3, 4), 1, 1),
    (layers.GroupNormalization, {"groups": 2}, (2, 3, 3, 4), 2, 2),
    (layers.GroupNormalization, {"groups": 3, "scale": False}, (2, 5, 6), 1, 1),
    (layers.LRN, {}, (2, 3, 3, 7), 0, 0),
])
def test_normalization_harness(cls, kwargs, shape, n_weights, n_trainable):
    run_layer_test(cls, kwargs, shape, shape, n_weights, expected_num_trainable=n_trainable)


def test_batch_norm_on_axis_1_matches_numpy_and_torch():
    x = (rng.standard_normal((8, 3, 4, 5)) * 2 + 1).astype(np.float32)
    layer = layers.BatchNormalization(axis=1, momentum=0.9)
    y = layer(x, training=True).numpy()
    mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    gamma, beta, moving_mean, moving_var = layer.get_weights()
    assert gamma.shape == (3,)
    np.testing.assert_allclose(moving_mean, 0.1 * mean.ravel(), rtol=1e-4, atol=1e-6)
    torch = pytest.importorskip("torch")
    bn = torch.nn.BatchNorm2d(3, eps=1e-3, momentum=0.1)
    expected = bn(torch.tensor(x)).detach().numpy()  # NCHW is axis=1
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    # torch keeps the unbiased running variance, Keras (and deepcore) the biased one
    np.testing.assert_allclose(moving_var, 0.9 + 0.1 * var.ravel(), rtol=1e-4)


def test_layer_norm_matches_numpy_and_torch():
    x = rng.standard_normal((2, 3, 6)).astype(np.float32)
    layer = layers.LayerNormalization(epsilon=1e-5)
    layer(x)
    gamma, beta = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    layer.set_weights([gamma, beta])
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(layer(x).numpy(), (x - mean) / np.sqrt(var + 1e-5) * gamma + beta, rtol=1e-4,
                               atol=1e-5)
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.layer_norm(torch.tensor(x), (6,), torch.tensor(gamma), torch.tensor(beta), 1e-5)
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_layer_norm_over_two_axes_has_weights_of_their_shape():
    layer = layers.LayerNormalization(axis=[1, 2])
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    y = layer(x).numpy()
    assert layer.gamma.shape == (3, 4)
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)


def test_group_norm_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    layer = layers.GroupNormalization(groups=2, epsilon=1e-5)
    x = rng.standard_normal((2, 3, 4, 6)).astype(np.float32)
    layer(x)
    gamma, beta = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    layer.set_weights([gamma, beta])
    expected = torch.nn.functional.group_norm(torch.tensor(x).permute(0, 3, 1, 2), 2, torch.tensor(gamma),
                                              torch.tensor(beta), 1e-5).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_lrn_is_alexnets_formula():
    x = rng.standard_normal((1, 2, 2, 6)).astype(np.float32) * 10
    y = layers.LRN()(x).numpy()
    padded = np.pad(x ** 2, ((0, 0), (0, 0), (0, 0), (2, 2)))
    sums = sum(padded[..., i:i + 6] for i in range(5))
    np.testing.assert_allclose(y, x / (2 + 1e-4 * sums) ** 0.75, rtol=1e-5)


@pytest.mark.parametrize("build,match", [
    (lambda: layers.BatchNormalization(momentum=1.5), "BatchNormalization .*momentum"),
    (lambda: layers.BatchNormalization(epsilon=0), "BatchNormalization .*epsilon must be > 0"),
    (lambda: layers.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32)), "BatchNormalization .*axis must be"),
    (lambda: layers.BatchNormalization(axis=0)(np.zeros((2, 3), np.float32)), "BatchNormalization .*non-batch"),
    (lambda: layers.LayerNormalization(axis="x"), "LayerNormalization .*axis must be an int or a list"),
    (lambda: layers.LayerNormalization(rms_scaling=True), "LayerNormalization .*rms_scaling"),
    (lambda: layers.GroupNormalization()(np.zeros((2, 3, 3, 8), np.float32)),
     "GroupNormalization .*channels \\(8\\) must be a multiple of groups \\(32\\)"),
    (lambda: layers.GroupNormalization(groups=0), "GroupNormalization .*groups must be a positive int"),
    (lambda: layers.LRN(depth_radius=-1), "LRN .*depth_radius must be an int >= 0, got -1"),
    (lambda: layers.LRN(bias=0), "LRN .*bias > 0"),
])
def test_bad_arguments_name_the_layer(build, match):
    with pytest.raises(ValueError, match=match):
        build()
