"""AlexNet (Krizhevsky, Sutskever & Hinton 2012) and ZFNet (Zeiler & Fergus 2013): five convolutions with
local response normalization, three max poolings, three fully connected layers with dropout."""
from __future__ import annotations

from .. import layers
from .common import check_arguments, flat_classifier, functional_model, model_input


def _conv(x, filters, kernel_size, name, strides=1, padding="same", groups=1):
    return layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, groups=groups, activation="relu",
                         name=name)(x)


def _head(x, inputs, include_top, pooling, classes, classifier_activation, name, conv_filters, groups):
    """conv3-conv5 (3x3), the last max pooling and the classifier, common to both networks."""
    x = _conv(x, conv_filters[0], 3, "conv3")
    x = _conv(x, conv_filters[1], 3, "conv4", groups=groups)
    x = _conv(x, conv_filters[2], 3, "conv5", groups=groups)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = flat_classifier(x, include_top, pooling, classes, classifier_activation, hidden=(4096, 4096), dropout=0.5)
    return functional_model(inputs, x, name)


def AlexNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
            classifier_activation="softmax", groups=2, name="alexnet"):
    """AlexNet as in the paper (section 3.5, figure 2) and Caffe's bvlc_alexnet: conv1 96 11x11/4, LRN,
    max pool 3/2, conv2 256 5x5, LRN, pool, conv3 384, conv4 384, conv5 256 (3x3), pool, fc 4096, 4096.

    ``groups=2`` keeps the two-GPU split: conv2, conv4 and conv5 see only the half of their input maps on
    their own GPU (grouped convolution), 60,965,224 parameters; ``groups=1`` is the one-tower network
    (62,378,344). The input is 227x227 (the paper's "224" does not give its 55x55 conv1 output).
    """
    check_arguments("AlexNet", weights, pooling, classes)
    inputs = model_input("AlexNet", input_tensor, input_shape, include_top, 227, min_size=67)
    x = _conv(inputs, 96, 11, "conv1", strides=4, padding="valid")
    x = layers.LRN(name="norm1")(x)  # section 3.3: k=2, n=5, alpha=1e-4, beta=0.75
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = _conv(x, 256, 5, "conv2", groups=groups)
    x = layers.LRN(name="norm2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    return _head(x, inputs, include_top, pooling, classes, classifier_activation, name, (384, 384, 256), groups)


def ZFNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", conv_filters=(384, 384, 256), name="zfnet"):
    """ZFNet, the network of Zeiler & Fergus' figure 3: AlexNet on one GPU with conv1 7x7/2 (96 maps) and
    conv2 5x5/2, each followed by ReLU, 3x3/2 max pooling and local contrast (response) normalization.
    Feature maps 110, 55, 26, 13, 13, 13, 6 on a 224x224 input as in the figure.

    ``conv_filters`` sets conv3-conv5; (512, 1024, 512) is the paper's larger variant (table 2), the one
    the CS231n slides call ZFNet.
    """
    check_arguments("ZFNet", weights, pooling, classes)
    if len(conv_filters) != 3:
        raise ValueError(f"ZFNet: conv_filters must be 3 numbers (conv3, conv4, conv5), got {conv_filters!r}")
    inputs = model_input("ZFNet", input_tensor, input_shape, include_top, 224, min_size=63)
    x = layers.ZeroPadding2D(1, name="conv1_pad")(inputs)
    x = _conv(x, 96, 7, "conv1", strides=2, padding="valid")
    # 'same' rounds up (110 -> 55, 26 -> 13) with the windows of Caffe's ceil-mode pooling on these even maps
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = layers.LRN(name="norm1")(x)
    x = _conv(x, 256, 5, "conv2", strides=2, padding="valid")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    x = layers.LRN(name="norm2")(x)
    return _head(x, inputs, include_top, pooling, classes, classifier_activation, name, conv_filters, 1)
