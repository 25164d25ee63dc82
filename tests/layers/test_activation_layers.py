"""Activation layers through the harness, against NumPy formulas, and their argument checks."""
import numpy as np
import pytest

from deepcore import layers

from layer_harness import run_layer_test

rng = np.random.default_rng(11)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape,n_weights", [
    (layers.ReLU, {}, (2, 3), (2, 3), 0),
    (layers.ReLU, {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.2}, (2, 3, 4), (2, 3, 4), 0),
    (layers.LeakyReLU, {}, (2, 5), (2, 5), 0),
    (layers.PReLU, {}, (2, 4, 4, 3), (2, 4, 4, 3), 1),
    (layers.PReLU, {"shared_axes": [1, 2], "alpha_initializer": "ones"}, (2, 4, 4, 3), (2, 4, 4, 3), 1),
    (layers.ELU, {"alpha": 0.5}, (2, 5), (2, 5), 0),
    (layers.Softmax, {"axis": 1}, (2, 3, 4), (2, 3, 4), 0),
    (layers.LogSoftmax, {}, (2, 3), (2, 3), 0),
    (layers.Maxout, {"num_units": 2}, (2, 3, 6), (2, 3, 2), 0),
    (layers.RBF, {"units": 4, "gamma": 0.5}, (3, 5), (3, 4), 1),
    (layers.Activation, {"activation": "gelu"}, (2, 3), (2, 3), 0),
    (layers.Activation, {"activation": "crelu"}, (2, 3), (2, 6), 0),
])
def test_activation_layer_harness(cls, kwargs, in_shape, out_shape, n_weights):
    run_layer_test(cls, kwargs, in_shape, out_shape, n_weights)


def test_relu_layer_matches_keras_formula():
    x = rng.standard_normal((4, 6)).astype(np.float32) * 3
    y = layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5)(x).numpy()
    expected = np.where(x > 0.5, np.minimum(x, 2.0), 0.1 * (x - 0.5))
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layers.LeakyReLU()(x).numpy(), np.where(x > 0, x, 0.3 * x), rtol=1e-6)
    np.testing.assert_allclose(layers.LeakyReLU(alpha=0.1)(x).numpy(), np.where(x > 0, x, 0.1 * x), rtol=1e-6)


def test_prelu_shared_axes_weight_shape_and_value():
    layer = layers.PReLU(shared_axes=[1, 2], alpha_initializer="ones")
    x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    layer(x)
    assert layer.alpha.shape == (1, 1, 3)
    alpha = rng.random((1, 1, 3)).astype(np.float32)
    layer.set_weights([alpha])
    np.testing.assert_allclose(layer(x).numpy(), np.where(x > 0, x, alpha * x), rtol=1e-6)


def test_prelu_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    layer = layers.PReLU(shared_axes=[1, 2])
    x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    layer(x)
    alpha = rng.random((1, 1, 3)).astype(np.float32)
    layer.set_weights([alpha])
    expected = torch.nn.functional.prelu(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(alpha.reshape(3)))
    np.testing.assert_allclose(layer(x).numpy(), expected.permute(0, 2, 3, 1).numpy(), rtol=1e-6)


def test_maxout_groups_consecutive_channels():
    x = rng.standard_normal((2, 6)).astype(np.float32)
    np.testing.assert_allclose(layers.Maxout(3)(x).numpy(), x.reshape(2, 3, 2).max(-1))


def test_rbf_is_a_gaussian_of_the_distance_to_each_center():
    layer = layers.RBF(3, gamma=0.7)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    layer(x)
    centers = layer.centers.numpy()
    assert centers.shape == (3, 4)
    expected = np.exp(-0.7 * ((x[:, None, :] - centers[None]) ** 2).sum(-1))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("build,match", [
    (lambda: layers.ReLU(max_value=-1.0), "ReLU .*max_value must be a number >= 0.0, got -1.0"),
    (lambda: layers.ReLU(negative_slope="a"), "negative_slope must be a number"),
    (lambda: layers.LeakyReLU(negative_slope=-0.1), "LeakyReLU .*negative_slope"),
    (lambda: layers.PReLU(shared_axes=[0]), "PReLU .*shared_axes must be a positive int, got 0"),
    (lambda: layers.Maxout(0), "Maxout .*num_units must be a positive int, got 0"),
    (lambda: layers.Maxout(4)(np.zeros((2, 6), np.float32)), "Maxout .*multiple of num_units=4"),
    (lambda: layers.RBF(3, gamma=-1), "RBF .*gamma must be a number >= 0.0"),
    (lambda: layers.Softmax(axis=3)(np.zeros((2, 3), np.float32)), "Softmax .*axis 3 out of range"),
])
def test_bad_arguments_name_the_layer(build, match):
    with pytest.raises(ValueError, match=match):
        build()
