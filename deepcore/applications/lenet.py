"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to document
recognition", section II-B)."""
from __future__ import annotations

from .. import layers
from .common import check_arguments, flat_classifier, functional_model, model_input


def LeNet5(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
           classifier_activation="softmax", name="lenet5"):
    """C1 (6 maps 5x5) - S2 - C3 (16 maps 5x5) - S4 - C5 (120 maps 5x5) - F6 (84) - output, tanh units.

    Input (32, 32, 1) by default: the paper pads MNIST's 28x28 digits to 32x32 (``ZeroPadding2D(2)``).
    Two modern simplifications, as in most reimplementations: S2/S4 are plain 2x2 average pooling (the
    paper's have a trainable coefficient and bias), and C3 connects to all 6 maps of S2 (the paper's Table I
    connects each C3 map to 3-6 of them), so C3 has 2,416 parameters instead of 1,516; the output is a
    Dense layer instead of Euclidean RBF units. Without the top the output is C5's (1, 1, 120) map.
    """
    check_arguments("LeNet5", weights, pooling, classes)
    inputs = model_input("LeNet5", input_tensor, input_shape, include_top, 32, channels=1)
    x = layers.Conv2D(6, 5, activation="tanh", name="c1")(inputs)
    x = layers.AveragePooling2D(2, name="s2")(x)
    x = layers.Conv2D(16, 5, activation="tanh", name="c3")(x)
    x = layers.AveragePooling2D(2, name="s4")(x)
    x = layers.Conv2D(120, 5, activation="tanh", name="c5")(x)
    x = flat_classifier(x, include_top, pooling, classes, classifier_activation, hidden=(84,), activation="tanh")
    return functional_model(inputs, x, name)
