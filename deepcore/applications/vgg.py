"""VGG (Simonyan & Zisserman 2015, "Very deep convolutional networks for large-scale image recognition"):
configurations A, B, D and E of table 1 (VGG11/13/16/19), with Keras' layer names."""
from __future__ import annotations

from .. import layers
from .common import BN_EPSILON, check_arguments, flat_classifier, functional_model, model_input

# 3x3 convolutions per block; the blocks have 64, 128, 256, 512, 512 filters and end with 2x2 max pooling
BLOCKS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
FILTERS = (64, 128, 256, 512, 512)


def vgg(depth, include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
        classifier_activation="softmax", batch_norm=False, name=None):
    """VGG with ``depth`` weight layers (11, 13, 16 or 19).

    ``batch_norm=True`` puts BatchNormalization between each convolution and its ReLU (torchvision's
    vgg*_bn). Differs from Keras' VGG16/VGG19 in one respect: dropout 0.5 after fc1 and fc2, as the paper
    trains them (section 3.1); parameters are the same.
    """
    who = f"VGG{depth}"
    if depth not in BLOCKS:
        raise ValueError(f"VGG: depth must be one of {sorted(BLOCKS)}, got {depth!r}")
    check_arguments(who, weights, pooling, classes)
    inputs = model_input(who, input_tensor, input_shape, include_top, 224)
    x = inputs
    for block, (convs, filters) in enumerate(zip(BLOCKS[depth], FILTERS), 1):
        for i in range(1, convs + 1):
            conv = f"block{block}_conv{i}"
            if batch_norm:
                x = layers.Conv2D(filters, 3, padding="same", name=conv)(x)
                x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{conv}_bn")(x)
                x = layers.ReLU(name=f"{conv}_relu")(x)
            else:
                x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=conv)(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    x = flat_classifier(x, include_top, pooling, classes, classifier_activation, hidden=(4096, 4096), dropout=0.5)
    return functional_model(inputs, x, name or who.lower() + ("_bn" if batch_norm else ""))


def VGG11(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", batch_norm=False, name=None):
    """VGG11, configuration A of table 1; see ``vgg``."""
    return vgg(11, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
               batch_norm, name)


def VGG13(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", batch_norm=False, name=None):
    """VGG13, configuration B of table 1; see ``vgg``."""
    return vgg(13, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
               batch_norm, name)


def VGG16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", batch_norm=False, name=None):
    """VGG16, configuration D of table 1; see ``vgg``."""
    return vgg(16, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
               batch_norm, name)


def VGG19(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", batch_norm=False, name=None):
    """VGG19, configuration E of table 1; see ``vgg``."""
    return vgg(19, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
               batch_norm, name)
