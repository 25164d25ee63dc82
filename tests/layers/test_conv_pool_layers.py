"""Convolution and pooling layers: harness, Keras weight layouts against torch (when installed), errors."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers

from layer_harness import run_layer_test

rng = np.random.default_rng(17)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape,n_weights", [
    (layers.Conv1D, {"filters": 4, "kernel_size": 3}, (2, 9, 3), (2, 7, 4), 2),
    (layers.Conv1D, {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 9, 3),
     (2, 9, 4), 2),
    (layers.Conv1D, {"filters": 4, "kernel_size": 2, "strides": 2, "groups": 2, "use_bias": False}, (2, 9, 4),
     (2, 4, 4), 1),
    (layers.Conv2D, {"filters": 6, "kernel_size": 3, "groups": 3, "padding": "same", "activation": "relu"},
     (2, 5, 5, 6), (2, 5, 5, 6), 2),
    (layers.Conv3D, {"filters": 2, "kernel_size": (2, 3, 2), "strides": (1, 2, 1)}, (1, 3, 5, 4, 2),
     (1, 2, 2, 3, 2), 2),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 3, 4, 2),
     (2, 6, 8, 3), 2),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1}, (2, 3, 4, 2),
     (2, 8, 10, 3), 2),
    (layers.DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2}, (2, 5, 6, 3), (2, 3, 4, 6), 2),
    (layers.SeparableConv2D, {"filters": 4, "kernel_size": 3, "padding": "same"}, (2, 5, 6, 3), (2, 5, 6, 4), 3),
    (layers.MaxPooling1D, {}, (2, 7, 3), (2, 3, 3), 0),
    (layers.AveragePooling1D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 7, 3), (2, 7, 3), 0),
    (layers.MaxPooling3D, {}, (1, 4, 4, 5, 2), (1, 2, 2, 2, 2), 0),
    (layers.AveragePooling3D, {"pool_size": 3, "strides": 2, "padding": "same"}, (1, 4, 5, 3, 2),
     (1, 2, 3, 2, 2), 0),
    (layers.GlobalAveragePooling1D, {}, (2, 5, 3), (2, 3), 0),
    (layers.GlobalMaxPooling1D, {"keepdims": True}, (2, 5, 3), (2, 1, 3), 0),
    (layers.GlobalAveragePooling3D, {}, (1, 2, 3, 4, 3), (1, 3), 0),
    (layers.GlobalMaxPooling3D, {}, (1, 2, 3, 4, 3), (1, 3), 0),
    (layers.GlobalMaxPooling2D, {"keepdims": True}, (2, 3, 4, 3), (2, 1, 1, 3), 0),
])
def test_conv_pool_layer_harness(cls, kwargs, in_shape, out_shape, n_weights):
    run_layer_test(cls, kwargs, in_shape, out_shape, n_weights)


def to_torch_nc(torch, x):
    return torch.tensor(x).permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def from_torch_nc(y):
    return y.permute(0, *range(2, y.ndim), 1).detach().numpy()


@pytest.mark.parametrize("cls,kwargs,x_shape,torch_fn", [
    (layers.Conv1D, {"filters": 4, "kernel_size": 3, "strides": 2, "groups": 2}, (2, 9, 4), "conv1d"),
    (layers.Conv2D, {"filters": 6, "kernel_size": 3, "groups": 3, "dilation_rate": 2}, (2, 8, 7, 3), "conv2d"),
    (layers.Conv3D, {"filters": 4, "kernel_size": 2, "strides": 2, "groups": 2}, (1, 4, 5, 4, 2), "conv3d"),
])
def test_conv_layers_match_torch_when_installed(cls, kwargs, x_shape, torch_fn):
    torch = pytest.importorskip("torch")
    layer = cls(**kwargs)
    x = rng.standard_normal(x_shape).astype(np.float32)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    rank = len(x_shape) - 2
    assert kernel.shape == layer.kernel_size + (x_shape[-1] // layer.groups, layer.filters)
    weight = torch.tensor(kernel).permute(rank + 1, rank, *range(rank))  # torch: (out, in / groups, *kernel)
    expected = getattr(torch.nn.functional, torch_fn)(to_torch_nc(torch, x), weight, torch.tensor(bias),
                                                      stride=layer.strides, dilation=layer.dilation_rate,
                                                      groups=layer.groups)
    np.testing.assert_allclose(y, from_torch_nc(expected), rtol=1e-4, atol=1e-5)


def test_conv2d_transpose_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    layer = layers.Conv2DTranspose(3, (3, 2), strides=(2, 3), padding="valid")
    x = rng.standard_normal((2, 4, 3, 5)).astype(np.float32)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 5)  # (kh, kw, filters, in) as Keras
    expected = torch.nn.functional.conv_transpose2d(to_torch_nc(torch, x), torch.tensor(kernel).permute(3, 2, 0, 1),
                                                    torch.tensor(bias), stride=(2, 3))
    expected = from_torch_nc(expected)  # (2, 9, 8, 3); Keras' 'valid' length is in*stride + max(k - s, 0) = 9, 9
    assert y.shape == (2, 9, 9, 3)
    np.testing.assert_allclose(y[:, :, :8], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y[:, :, 8], np.broadcast_to(bias, (2, 9, 3)), rtol=1e-6)  # beyond the kernel's reach


def test_depthwise_and_separable_match_torch_when_installed():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 6, 7, 3)).astype(np.float32)
    layer = layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2)
    y = layer(x).numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, 3, 2)
    weight = torch.tensor(kernel.reshape(3, 3, 1, 6)).permute(3, 2, 0, 1)
    expected = torch.nn.functional.conv2d(to_torch_nc(torch, x), weight, torch.tensor(bias), stride=2, groups=3)
    np.testing.assert_allclose(y, from_torch_nc(expected), rtol=1e-4, atol=1e-5)

    separable = layers.SeparableConv2D(4, 3, depth_multiplier=2)
    y = separable(x).numpy()
    depthwise, pointwise, bias = separable.get_weights()
    assert depthwise.shape == (3, 3, 3, 2) and pointwise.shape == (1, 1, 6, 4)
    mid = torch.nn.functional.conv2d(to_torch_nc(torch, x),
                                     torch.tensor(depthwise.reshape(3, 3, 1, 6)).permute(3, 2, 0, 1), groups=3)
    expected = torch.nn.functional.conv2d(mid, torch.tensor(pointwise).permute(3, 2, 0, 1), torch.tensor(bias))
    np.testing.assert_allclose(y, from_torch_nc(expected), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls,torch_name,x_shape", [
    (layers.MaxPooling1D, "max_pool1d", (2, 7, 3)), (layers.AveragePooling1D, "avg_pool1d", (2, 7, 3)),
    (layers.MaxPooling3D, "max_pool3d", (1, 5, 4, 6, 2)), (layers.AveragePooling3D, "avg_pool3d", (1, 5, 4, 6, 2)),
])
def test_pooling_layers_match_torch_when_installed(cls, torch_name, x_shape):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(x_shape).astype(np.float32)
    expected = getattr(torch.nn.functional, torch_name)(to_torch_nc(torch, x), 2, 2)
    np.testing.assert_allclose(cls()(x).numpy(), from_torch_nc(expected), rtol=1e-5, atol=1e-6)


def test_regularizers_reach_every_new_weighted_layer():
    l2 = dc.regularizers.L2(0.1)
    for layer, x in [(layers.Conv1D(2, 2, kernel_regularizer=l2, bias_regularizer=l2), np.ones((1, 4, 2))),
                     (layers.Conv3D(2, 1, kernel_regularizer=l2), np.ones((1, 2, 2, 2, 2))),
                     (layers.Conv2DTranspose(2, 2, kernel_regularizer=l2), np.ones((1, 2, 2, 2))),
                     (layers.DepthwiseConv2D(2, depthwise_regularizer=l2), np.ones((1, 3, 3, 2))),
                     (layers.SeparableConv2D(2, 2, depthwise_regularizer=l2, pointwise_regularizer=l2),
                      np.ones((1, 3, 3, 2)))]:
        layer(x.astype(np.float32))
        expected = sum(0.1 * (w.numpy() ** 2).sum() for w in layer.weights if w.regularizer is not None)
        assert len(layer.losses) >= 1
        np.testing.assert_allclose(sum(float(p.data) for p in layer.losses), expected, rtol=1e-5)


@pytest.mark.parametrize("build,match", [
    (lambda: layers.Conv1D(0, 3), "Conv1D .*filters must be a positive int, got 0"),
    (lambda: layers.Conv2D(4, 3, padding="full"), "Conv2D .*padding must be 'valid' or 'same', got 'full'"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), "Conv2D .*padding"),
    (lambda: layers.Conv2D(5, 3, groups=2), "Conv2D .*filters \\(5\\) must be a multiple of groups \\(2\\)"),
    (lambda: layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3))), "Conv2D .*input channels \\(3\\)"),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2), "Conv2D .*strides > 1 together with dilation"),
    (lambda: layers.Conv3D(2, (1, 2)), "Conv3D .*kernel_size must be an int or a tuple of 3 ints"),
    (lambda: layers.Conv3D(2, 2)(np.zeros((1, 4, 4, 2))), "Conv3D .*expected input of rank 5"),
    (lambda: layers.Conv1D(2, 5)(np.zeros((1, 3, 2))), "Conv1D .*smaller than the kernel"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), "Conv2DTranspose .*output_padding"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "DepthwiseConv2D .*depth_multiplier"),
    (lambda: layers.MaxPooling1D(pool_size=-1), "MaxPooling1D .*pool_size must be a positive int"),
    (lambda: layers.AveragePooling3D(padding="full"), "AveragePooling3D .*padding"),
    (lambda: layers.MaxPooling3D()(np.zeros((1, 1, 4, 4, 2))), "MaxPooling3D .*smaller than the pool_size"),
    (lambda: layers.GlobalAveragePooling1D()(np.zeros((2, 3))), "GlobalAveragePooling1D .*expected input of rank 3"),
])
def test_bad_arguments_name_the_layer(build, match):
    with pytest.raises(ValueError, match=match):
        build()
