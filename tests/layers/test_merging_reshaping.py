"""Merging and shape layers through the harness and against NumPy."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers

from layer_harness import run_layer_test

rng = np.random.default_rng(13)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (layers.Add, {}, [(2, 3), (2, 3), (2, 3)], (2, 3)),
    (layers.Subtract, {}, [(2, 3, 4), (2, 3, 4)], (2, 3, 4)),
    (layers.Multiply, {}, [(2, 3), (2, 3)], (2, 3)),
    (layers.Average, {}, [(2, 3), (2, 3)], (2, 3)),
    (layers.Maximum, {}, [(2, 3), (2, 3)], (2, 3)),
    (layers.Minimum, {}, [(2, 3), (2, 3)], (2, 3)),
    (layers.Concatenate, {}, [(2, 3, 4), (2, 3, 2)], (2, 3, 6)),
    (layers.Concatenate, {"axis": 1}, [(2, 3, 4), (2, 1, 4)], (2, 4, 4)),
    (layers.Dot, {"axes": 1}, [(2, 5), (2, 5)], (2, 1)),
    (layers.Dot, {"axes": (2, 2), "normalize": True}, [(2, 3, 5), (2, 4, 5)], (2, 3, 4)),
    (layers.Dot, {"axes": (1, 2)}, [(2, 5), (2, 3, 5)], (2, 3)),
    (layers.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3)),
    (layers.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4)),
    (layers.ZeroPadding1D, {"padding": (1, 2)}, (2, 5, 3), (2, 8, 3)),
    (layers.ZeroPadding2D, {}, (2, 4, 5, 3), (2, 6, 7, 3)),
    (layers.ZeroPadding2D, {"padding": ((1, 0), (2, 3))}, (2, 4, 5, 3), (2, 5, 10, 3)),
    (layers.ZeroPadding3D, {"padding": (1, 0, 2)}, (1, 2, 3, 4, 2), (1, 4, 3, 8, 2)),
    (layers.Cropping1D, {}, (2, 5, 3), (2, 3, 3)),
    (layers.Cropping2D, {"cropping": ((1, 0), (2, 1))}, (2, 4, 5, 3), (2, 3, 2, 3)),
    (layers.Cropping3D, {}, (1, 3, 4, 5, 2), (1, 1, 2, 3, 2)),
    (layers.UpSampling1D, {"size": 3}, (2, 4, 3), (2, 12, 3)),
    (layers.UpSampling2D, {}, (2, 3, 4, 2), (2, 6, 8, 2)),
    (layers.UpSampling2D, {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2), (2, 6, 12, 2)),
    (layers.UpSampling3D, {}, (1, 2, 3, 2, 2), (1, 4, 6, 4, 2)),
    (layers.DepthToSpace, {"block_size": 2}, (2, 3, 4, 8), (2, 6, 8, 2)),
    (layers.SpaceToDepth, {"block_size": 2}, (2, 4, 6, 3), (2, 2, 3, 12)),
])
def test_shape_layer_harness(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape)


def test_merge_values_match_numpy():
    a, b, c = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(3))
    np.testing.assert_allclose(layers.Subtract()([a, b]).numpy(), a - b)
    np.testing.assert_allclose(layers.Maximum()([a, b, c]).numpy(), np.maximum(np.maximum(a, b), c))
    np.testing.assert_allclose(layers.Minimum()([a, b]).numpy(), np.minimum(a, b))
    np.testing.assert_allclose(layers.Average()([a, b, c]).numpy(), (a + b + c) / 3, rtol=1e-6)
    np.testing.assert_allclose(layers.Concatenate(axis=1)([a, b]).numpy(), np.concatenate([a, b], 1))
    np.testing.assert_allclose(layers.Dot(axes=1)([a, b]).numpy(), (a * b).sum(1, keepdims=True), rtol=1e-5)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(layers.Dot(axes=1, normalize=True)([a, b]).numpy()[:, 0], cos, rtol=1e-5)


def test_shape_layer_values_match_numpy():
    x = rng.standard_normal((2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(layers.Permute((3, 1, 2))(x).numpy(), x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(layers.ZeroPadding2D(((1, 0), (0, 2)))(x).numpy(),
                                  np.pad(x, ((0, 0), (1, 0), (0, 2), (0, 0))))
    np.testing.assert_array_equal(layers.Cropping2D(((1, 2), (0, 1)))(x).numpy(), x[:, 1:2, 0:4])
    np.testing.assert_array_equal(layers.UpSampling2D((2, 3))(x).numpy(), x.repeat(2, 1).repeat(3, 2))
    v = x[:, 0, 0]
    np.testing.assert_array_equal(layers.RepeatVector(4)(v).numpy(), np.repeat(v[:, None], 4, axis=1))


def test_merge_layers_in_a_functional_model():
    a, b = dc.Input((3,)), dc.Input((3,))
    model = dc.Model([a, b], layers.Dense(1)(layers.Concatenate()([layers.Subtract()([a, b]),
                                                                    layers.Maximum()([a, b])])))
    assert model([np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)]).shape == (2, 1)


@pytest.mark.parametrize("build,match", [
    (lambda: layers.Subtract()([np.zeros((2, 3))] * 3), "Subtract .*exactly 2 inputs, got 3 inputs"),
    (lambda: layers.Add()([np.zeros((2, 3)), np.zeros((2, 4))]), "Add .*broadcast-compatible shapes"),
    (lambda: layers.Concatenate()([np.zeros((2, 3, 4)), np.zeros((2, 2, 4))]), "Concatenate .*every axis but -1"),
    (lambda: layers.Concatenate(axis=0)([np.zeros((2, 3))] * 2), "Concatenate .*batch axis"),
    (lambda: layers.Dot(axes=1)([np.zeros((2, 3)), np.zeros((2, 4))]), "Dot .*differ"),
    (lambda: layers.Permute((1, 3)), "Permute .*permutation of 1..rank-1"),
    (lambda: layers.RepeatVector(0), "RepeatVector .*n must be a positive int, got 0"),
    (lambda: layers.ZeroPadding2D(-1), "ZeroPadding2D .*non-negative"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), "ZeroPadding2D .*2 ints or 2 \\(before, after\\) pairs"),
    (lambda: layers.Cropping2D(3)(np.zeros((1, 5, 5, 1))), "Cropping2D .*removes everything"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), "UpSampling2D .*interpolation"),
    (lambda: layers.UpSampling2D()(np.zeros((2, 3, 3))), "UpSampling2D .*expected input of rank 4"),
    (lambda: layers.DepthToSpace(2)(np.zeros((1, 2, 2, 6))), "DepthToSpace .*multiple of block_size"),
])
def test_bad_arguments_name_the_layer(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_merge_layers_broadcast_as_keras():
    x, gate = np.random.default_rng(0).standard_normal((2, 4, 4, 3)), np.full((2, 1, 1, 3), 0.5)
    np.testing.assert_allclose(layers.Multiply()([x, gate]).numpy(), x * 0.5, rtol=1e-6)
    assert layers.Multiply()([dc.Input((8, 8, 4)), dc.Input((1, 1, 4))]).shape == (None, 8, 8, 4)


def test_output_shape_inference_keeps_unknown_dimensions():
    assert layers.Activation("relu")(dc.Input((None, None, 3))).shape == (None, None, None, 3)
