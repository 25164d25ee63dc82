import numpy as np
import pytest

import deepcore as dc
from deepcore import layers
from deepcore.backend import to_device

from layer_harness import run_layer_test

rng = np.random.default_rng(3)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape,n_weights", [
    (layers.Dense, {"units": 4}, (2, 3), (2, 4), 2),
    (layers.Dense, {"units": 4, "activation": "relu", "use_bias": False}, (2, 5, 3), (2, 5, 4), 1),
    (layers.Conv2D, {"filters": 4, "kernel_size": 3}, (2, 7, 7, 2), (2, 5, 5, 4), 2),
    (layers.Conv2D, {"filters": 3, "kernel_size": (3, 2), "strides": 2, "padding": "same", "activation": "relu"},
     (2, 7, 6, 2), (2, 4, 3, 3), 2),
    (layers.MaxPooling2D, {}, (2, 6, 6, 3), (2, 3, 3, 3), 0),
    (layers.AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 7, 3), (2, 4, 4, 3), 0),
    (layers.GlobalAveragePooling2D, {}, (2, 5, 5, 3), (2, 3), 0),
    (layers.GlobalMaxPooling2D, {}, (2, 5, 5, 3), (2, 3), 0),
    (layers.BatchNormalization, {}, (4, 3, 3, 5), (4, 3, 3, 5), 4),
    (layers.Dropout, {"rate": 0.5}, (4, 6), (4, 6), 0),
    (layers.Flatten, {}, (2, 3, 4, 5), (2, 60), 0),
    (layers.Reshape, {"target_shape": (6, -1)}, (2, 3, 4), (2, 6, 2), 0),
    (layers.Activation, {"activation": "tanh"}, (2, 3), (2, 3), 0),
    (layers.ReLU, {}, (2, 3), (2, 3), 0),
    (layers.Softmax, {}, (2, 3), (2, 3), 0),
])
def test_layer_harness(cls, kwargs, in_shape, out_shape, n_weights):
    run_layer_test(cls, kwargs, in_shape, out_shape, n_weights)


def test_batch_norm_weights_order_and_trainability():
    layer = run_layer_test(layers.BatchNormalization, {}, (4, 3), (4, 3), 4, expected_num_trainable=2)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_dense_matches_numpy_and_keras_kernel_layout():
    layer = layers.Dense(3, activation="relu")
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (4, 3) and bias.shape == (3,)
    np.testing.assert_allclose(y.numpy(), np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)


def test_conv2d_kernel_layout_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    layer = layers.Conv2D(4, 3, strides=2, padding="valid", activation="relu")
    x = rng.standard_normal((2, 9, 9, 3)).astype(np.float32)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 4)
    expected = torch.relu(torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 1, 2),
                                                     torch.tensor(kernel).permute(3, 2, 0, 1), torch.tensor(bias),
                                                     stride=2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activation", ["relu", None])
def test_conv2d_bias_and_relu_epilogue_and_its_gradients(activation):
    """Conv2D with a bias and ReLU (or no activation) runs one fused kernel; forward and gradients match the
    unfused ops."""
    from deepcore.autograd.tensor import Tensor
    from deepcore.backend import reference
    layer = layers.Conv2D(5, 3, padding="same", activation=activation)
    x = rng.standard_normal((2, 6, 7, 3)).astype(np.float32)
    layer(x)
    kernel = layer.get_weights()[0]
    bias = rng.standard_normal(5).astype(np.float32)
    layer.set_weights([kernel, bias])
    tx = Tensor(x, requires_grad=True)
    y = layer(tx)
    pads = ((1, 1), (1, 1))
    expected = reference.conv2d_forward(x, kernel, (1, 1), pads, (1, 1)) + bias
    expected = np.maximum(expected, 0) if activation else expected
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    masked = g * (expected > 0) if activation else g
    np.testing.assert_allclose(layer.bias.grad, masked.reshape(-1, 5).sum(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(tx.grad, reference.conv2d_backward_data(masked, kernel, x.shape, (1, 1), pads, (1, 1)),
                               rtol=1e-4, atol=1e-4)


def test_batch_norm_moving_statistics_follow_keras():
    layer = layers.BatchNormalization(momentum=0.9)
    x = (rng.standard_normal((32, 3)) * 2 + 1).astype(np.float32)
    layer(x, training=True)
    gamma, beta, mean, variance = layer.get_weights()
    np.testing.assert_allclose(mean, 0.1 * x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(variance, 0.9 + 0.1 * x.var(0), rtol=1e-4)  # biased batch variance
    y = layer(x, training=False).numpy()
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(variance + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-5)


def test_initializers_follow_keras_formulas():
    dc.utils.set_random_seed(0)
    glorot = layers.Dense(300)
    glorot.build((None, 200))
    limit = np.sqrt(6 / (200 + 300))
    kernel = glorot.kernel.numpy()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    assert np.all(glorot.bias.numpy() == 0)
    he = dc.initializers.get("he_normal")((3, 3, 64, 64))
    he = to_device(he, "cpu")
    assert abs(he.std() - np.sqrt(2 / (9 * 64))) < 0.02 * np.sqrt(2 / (9 * 64))
    assert np.abs(he).max() <= 2 * np.sqrt(2 / (9 * 64)) / 0.8796 + 1e-6  # truncated at 2 stddev


def test_layer_names_are_unique_and_keras_like():
    a, b = layers.Conv2D(1, 1), layers.Conv2D(1, 1)
    assert a.name.startswith("conv2d") and a.name != b.name


def test_regularizer_adds_to_losses():
    layer = layers.Dense(2, kernel_regularizer=dc.regularizers.L2(0.5))
    layer(np.ones((1, 3), dtype=np.float32))
    (penalty,) = layer.losses
    np.testing.assert_allclose(float(penalty.data), 0.5 * (layer.kernel.numpy() ** 2).sum(), rtol=1e-5)
