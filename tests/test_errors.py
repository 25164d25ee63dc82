"""Bad input: a clear ValueError/TypeError naming the layer, what it expected and what it got."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers


def compiled_mlp():
    model = dc.Sequential([dc.Input((4,)), layers.Dense(3, activation="softmax", name="head")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_conv2d_wrong_rank_names_layer_expected_and_got():
    layer = layers.Conv2D(2, 3, name="conv2d_1")
    with pytest.raises(ValueError, match=r"Conv2D 'conv2d_1': expected input of rank 4 \(batch, height, width, "
                                         r"channels\), got shape \(28, 28\)"):
        layer(np.zeros((28, 28), np.float32))


def test_wrong_feature_size_after_build():
    model = compiled_mlp()
    with pytest.raises(ValueError, match=r"expected input of shape \('batch', 4\), got x of shape \(2, 5\)"):
        model.fit(np.zeros((2, 5)), np.zeros(2), verbose=0)
    with pytest.raises(ValueError, match=r"Dense 'head': expected input of shape \(batch, 4\), got shape \(2, 5\)"):
        model(np.zeros((2, 5), np.float32))


def test_x_y_length_mismatch():
    with pytest.raises(ValueError, match="x has 4 samples but y has 3"):
        compiled_mlp().fit(np.zeros((4, 4)), np.zeros(3), verbose=0)


def test_labels_out_of_range_before_training():
    model = compiled_mlp()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got values in \[0, 7\]"):
        model.fit(np.zeros((4, 4)), np.array([0, 1, 2, 7]), verbose=0)
    np.testing.assert_array_equal(before[0], model.get_weights()[0])  # nothing ran


def test_non_integer_sparse_labels():
    with pytest.raises(ValueError, match="integer class labels"):
        compiled_mlp().fit(np.zeros((2, 4)), np.array([0.5, 1.0]), verbose=0)


@pytest.mark.parametrize("make,message", [
    (lambda: dc.Sequential([dc.Input((4,)), layers.Dense(2)]).compile("adam", "no_such_loss"), "Unknown loss"),
    (lambda: dc.Sequential([dc.Input((4,)), layers.Dense(2)]).compile("adamm", "mse"), "Unknown optimizer"),
    (lambda: layers.Dense(3, activation="relux"), "Unknown activation"),
    (lambda: layers.Dense(0), r"Dense 'dense\w*': units must be a positive int, got 0"),
    (lambda: layers.Conv2D(-1, 3), "filters must be a positive int, got -1"),
    (lambda: layers.Conv2D(4, 0), "kernel_size must be a positive int, got 0"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), "kernel_size must be an int or a tuple of 2 ints"),
    (lambda: layers.Conv2D(4, 3, padding="full"), "padding must be 'valid' or 'same'"),
    (lambda: layers.MaxPooling2D(0), "pool_size must be a positive int"),
    (lambda: layers.Dropout(1.5), r"rate must be a float in \[0, 1\)"),
    (lambda: layers.Dense(3, units_typo=2), "unexpected keyword argument"),
    (lambda: dc.Input((28, -1)), "shape must be a tuple of positive ints"),
    (lambda: dc.optimizers.SGD(-1.0), "learning_rate must be > 0"),
])
def test_bad_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_input_smaller_than_kernel():
    with pytest.raises(ValueError, match=r"Conv2D '.*': input of shape \(None, 3, 3, 1\) is smaller than the kernel"):
        dc.Sequential([dc.Input((3, 3, 1)), layers.Conv2D(2, 5)])


def test_fit_before_compile():
    model = dc.Sequential([dc.Input((4,)), layers.Dense(2)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 4)), np.zeros(2), verbose=0)


def test_bad_device_name():
    with pytest.raises(ValueError, match="expected 'cpu' or 'gpu', got 'tpu'"):
        dc.set_device("tpu")
