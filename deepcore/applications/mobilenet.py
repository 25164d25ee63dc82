"""MobileNet (Howard et al. 2017, "MobileNets: efficient convolutional neural networks for mobile vision
applications"): depthwise separable convolutions, as Keras' MobileNet (layer names included)."""
from __future__ import annotations

from .. import layers
from .common import check_arguments, functional_model, model_input, pool_features

# table 1: pointwise filters and stride of the 13 depthwise separable blocks
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1))


def _bn_relu6(x, name):
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def depthwise_separable_block(x, filters, strides, name, depth_multiplier=1):
    """3x3 depthwise convolution, BN, ReLU6, 1x1 pointwise convolution, BN, ReLU6 (figure 3 right). A
    strided block pads bottom and right by one, as TensorFlow's 'same'."""
    if strides > 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{name}")(x)
    x = layers.DepthwiseConv2D(3, strides=strides, padding="same" if strides == 1 else "valid",
                               depth_multiplier=depth_multiplier, use_bias=False, name=f"conv_dw_{name}")(x)
    x = _bn_relu6(x, f"conv_dw_{name}")
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"conv_pw_{name}")(x)
    return _bn_relu6(x, f"conv_pw_{name}")


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True, weights=None,
              input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax", name="mobilenet"):
    """MobileNet v1 with width multiplier ``alpha`` (section 4.2) and Keras' arguments (in Keras' order):
    a 3x3/2 convolution, 13 depthwise separable blocks, global average pooling, dropout and a 1x1
    convolution as the classifier."""
    check_arguments("MobileNet", weights, pooling, classes)
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha <= 0:
        raise ValueError(f"MobileNet: alpha must be a positive number, got {alpha!r}")
    inputs = model_input("MobileNet", input_tensor, input_shape, include_top, 224)
    x = layers.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = _bn_relu6(x, "conv1")
    for i, (filters, strides) in enumerate(BLOCKS, 1):
        x = depthwise_separable_block(x, int(filters * alpha), strides, i, depth_multiplier)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True, name="global_average_pooling2d")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = pool_features(x, pooling)
    return functional_model(inputs, x, name)
