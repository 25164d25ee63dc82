"""Regularization layers: harness, identity at inference, noise statistics and masks while training."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers

from layer_harness import run_layer_test

rng = np.random.default_rng(37)


@pytest.mark.parametrize("cls,kwargs,shape", [
    (layers.Dropout, {"rate": 0.3, "noise_shape": (None, 1, 4)}, (2, 3, 4)),
    (layers.SpatialDropout1D, {"rate": 0.5}, (2, 5, 3)),
    (layers.SpatialDropout2D, {"rate": 0.5}, (2, 3, 4, 5)),
    (layers.SpatialDropout3D, {"rate": 0.5}, (2, 2, 3, 4, 5)),
    (layers.GaussianNoise, {"stddev": 0.1}, (2, 5)),
    (layers.GaussianDropout, {"rate": 0.2}, (2, 5)),
    (layers.AlphaDropout, {"rate": 0.2}, (2, 5)),
])
def test_regularization_harness_and_identity_at_inference(cls, kwargs, shape):
    layer = run_layer_test(cls, kwargs, shape, shape)
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((64, 5, 6, 8), np.float32)
    y = layers.SpatialDropout2D(0.5)(x, training=True).numpy()
    per_channel = y.reshape(64, 30, 8)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))  # one decision per (sample, channel)
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.35 < (y > 0).mean() < 0.65


def test_dropout_noise_shape_shares_the_mask():
    y = layers.Dropout(0.5, noise_shape=(None, 1, 7))(np.ones((16, 9, 7), np.float32), training=True).numpy()
    assert np.all(y == y[:, :1, :])


def test_gaussian_noise_statistics():
    dc.utils.set_random_seed(1)
    x = np.zeros((200, 500), np.float32)
    assert abs(layers.GaussianNoise(0.3)(x, training=True).numpy().std() - 0.3) < 0.01
    y = layers.GaussianDropout(0.2)(np.ones((200, 500), np.float32), training=True).numpy()
    assert abs(y.mean() - 1) < 0.01 and abs(y.std() - 0.5) < 0.01  # sqrt(0.2 / 0.8)


def test_alpha_dropout_keeps_selu_statistics():
    dc.utils.set_random_seed(2)
    x = dc.ops.selu(dc.Tensor(rng.standard_normal((400, 500)).astype(np.float32)))
    y = layers.AlphaDropout(0.2)(x, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_dropout_gradient_flows_through_kept_units_only():
    x = dc.Tensor(np.ones((50, 40), np.float32), requires_grad=True)
    y = layers.SpatialDropout1D(0.4)(dc.ops.reshape(x, (50, 40, 1)), training=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, y.numpy().reshape(50, 40))


@pytest.mark.parametrize("build,match", [
    (lambda: layers.Dropout(1.0), "Dropout .*rate must be a float in \\[0, 1\\)"),
    (lambda: layers.SpatialDropout2D(-0.1), "SpatialDropout2D .*rate must be a number >= 0.0"),
    (lambda: layers.SpatialDropout2D(0.5)(np.zeros((2, 3, 4), np.float32)), "SpatialDropout2D .*rank 4"),
    (lambda: layers.GaussianNoise(-1), "GaussianNoise .*stddev must be a number >= 0.0"),
    (lambda: layers.Dropout(0.5, noise_shape=(None, 1))(np.zeros((2, 3, 4), np.float32), training=True),
     "Dropout .*noise_shape \\(None, 1\\) does not match"),
])
def test_bad_arguments_name_the_layer(build, match):
    with pytest.raises(ValueError, match=match):
        build()
