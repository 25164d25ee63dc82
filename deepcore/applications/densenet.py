"""DenseNet (Huang, Liu, van der Maaten & Weinberger 2017, "Densely connected convolutional networks"):
each layer of a dense block sees the concatenation of all earlier maps of the block. Keras' layer names."""
from __future__ import annotations

from .. import layers
from .common import BN_EPSILON, check_arguments, conv_bn, functional_model, model_input, pooled_classifier


def _bn_relu(x, name):
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _conv(x, filters, kernel_size, name):
    return layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, kernel_initializer="he_normal",
                         name=f"{name}_conv")(x)


def dense_block(x, layer_count, name, growth_rate=32):
    """``layer_count`` composite layers BN-ReLU-1x1 conv (4k maps)-BN-ReLU-3x3 conv (k maps) (section 3,
    "bottleneck layers"), each output concatenated to its input."""
    for i in range(1, layer_count + 1):
        block = f"{name}_block{i}"
        y = _conv(_bn_relu(x, f"{block}_0"), 4 * growth_rate, 1, f"{block}_1")
        y = _conv(_bn_relu(y, f"{block}_1"), growth_rate, 3, f"{block}_2")
        x = layers.Concatenate(name=f"{block}_concat")([x, y])
    return x


def transition_block(x, name, reduction=0.5):
    """BN-ReLU-1x1 conv keeping ``reduction`` of the maps, then 2x2 average pooling (compression, DenseNet-BC)."""
    x = _conv(_bn_relu(x, name), int(x.shape[-1] * reduction), 1, name)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def DenseNet(blocks, include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="densenet"):
    """DenseNet-BC of table 1 (growth rate k = 32) with ``blocks`` layers in its four dense blocks: conv 7x7/2,
    max pool 3x3/2, the dense blocks with transitions between them, BN-ReLU, global average pooling and the
    top. Keras' ``keras.applications.densenet.DenseNet``."""
    check_arguments("DenseNet", weights, pooling, classes)
    if len(blocks) != 4:
        raise ValueError(f"DenseNet: blocks must be the layer counts of 4 dense blocks, got {blocks!r}")
    inputs = model_input("DenseNet", input_tensor, input_shape, include_top, 224)
    x = conv_bn(inputs, 64, 7, "conv1", strides=2)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, layer_count in enumerate(blocks, 2):
        x = dense_block(x, layer_count, f"conv{stage}")
        if stage < 5:
            x = transition_block(x, f"pool{stage}")
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    x = pooled_classifier(x, include_top, pooling, classes, classifier_activation)
    return functional_model(inputs, x, name)


def DenseNet121(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="densenet121"):
    """DenseNet-121: dense blocks of 6, 12, 24, 16 layers."""
    return DenseNet((6, 12, 24, 16), include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def DenseNet169(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="densenet169"):
    """DenseNet-169: dense blocks of 6, 12, 32, 32 layers."""
    return DenseNet((6, 12, 32, 32), include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def DenseNet201(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="densenet201"):
    """DenseNet-201: dense blocks of 6, 12, 48, 32 layers."""
    return DenseNet((6, 12, 48, 32), include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)
