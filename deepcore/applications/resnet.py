"""ResNet (He, Zhang, Ren & Sun 2016, "Deep residual learning for image recognition"): the ImageNet
networks of table 1 (18/34 with basic blocks, 50/101/152 with bottleneck blocks) and the CIFAR-10 networks
of section 4.2 (ResNet-20/32/56). Layer names follow Keras' ResNet50 ("conv2_block1_1_conv", ...)."""
from __future__ import annotations

from .. import layers
from .common import check_arguments, conv_bn, functional_model, model_input, pooled_classifier


def _shortcut(x, filters, strides, name):
    """Identity, or (option B, section 3.3) a 1x1 projection with batch norm when the shape changes."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return conv_bn(x, filters, 1, f"{name}_0", strides=strides, relu=False)


def _zero_padded_shortcut(x, filters, strides, name):
    """Option A (section 3.3, used for CIFAR): the identity subsampled by ``strides`` with zero channels
    appended, no parameters. Channels are padded by ZeroPadding2D on a (batch, channels, width, height) view."""
    extra = filters - x.shape[-1]
    if strides == 1 and extra == 0:
        return x
    x = layers.MaxPooling2D(1, strides=strides, name=f"{name}_0_subsample")(x)
    x = layers.Permute((3, 2, 1), name=f"{name}_0_to_channels")(x)
    x = layers.ZeroPadding2D(((0, extra), (0, 0)), name=f"{name}_0_pad")(x)
    return layers.Permute((3, 2, 1), name=f"{name}_0_from_channels")(x)


def _merge(x, shortcut, name):
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.ReLU(name=f"{name}_out")(x)


def basic_block(x, filters, strides, name, shortcut=_shortcut):
    """Two 3x3 convolutions (figure 5 left), ``filters`` output channels."""
    residual = conv_bn(x, filters, 3, f"{name}_1", strides=strides)
    residual = conv_bn(residual, filters, 3, f"{name}_2", relu=False)
    return _merge(residual, shortcut(x, filters, strides, name), name)


def bottleneck_block(x, filters, strides, name, groups=1, width_per_group=64, recalibrate=None):
    """1x1 reduction, 3x3, 1x1 expansion to 4 * filters (figure 5 right). The stride is on the 3x3
    convolution, as torchvision ("ResNet v1.5"; the paper's Caffe model strides the first 1x1).

    ResNeXt (Xie et al. 2017, figure 3c) widens the 3x3 to ``groups`` groups of ``width_per_group`` channels
    per 64 filters; ``recalibrate`` (SENet) rescales the residual before the addition."""
    width = filters * width_per_group // 64 * groups
    residual = conv_bn(x, width, 1, f"{name}_1")
    residual = conv_bn(residual, width, 3, f"{name}_2", strides=strides, groups=groups)
    residual = conv_bn(residual, 4 * filters, 1, f"{name}_3", relu=False)
    if recalibrate is not None:
        residual = recalibrate(residual, name)
    return _merge(residual, _shortcut(x, 4 * filters, strides, name), name)


def resnet(who, block, stages, include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
           classes=1000, classifier_activation="softmax", name=None):
    """The ImageNet ResNet of table 1: conv1 7x7/2 and 3x3/2 max pooling, then ``stages[i]`` blocks of
    64 * 2**i filters (the first block of stages 3-5 strides 2), global average pooling and the top."""
    check_arguments(who, weights, pooling, classes)
    inputs = model_input(who, input_tensor, input_shape, include_top, 224)
    x = conv_bn(inputs, 64, 7, "conv1", strides=2)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)  # zeros pad like -inf after the ReLU
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, blocks in enumerate(stages):
        for i in range(blocks):
            strides = 2 if stage > 0 and i == 0 else 1
            x = block(x, 64 * 2 ** stage, strides, f"conv{stage + 2}_block{i + 1}")
    x = pooled_classifier(x, include_top, pooling, classes, classifier_activation)
    return functional_model(inputs, x, name or who.lower())


def ResNet18(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet18"):
    """ResNet-18: basic blocks [2, 2, 2, 2]."""
    return resnet("ResNet18", basic_block, (2, 2, 2, 2), include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name)


def ResNet34(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet34"):
    """ResNet-34: basic blocks [3, 4, 6, 3]."""
    return resnet("ResNet34", basic_block, (3, 4, 6, 3), include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name)


def ResNet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    """ResNet-50: bottleneck blocks [3, 4, 6, 3]. Keras' ResNet50 has conv biases (before batch norm,
    where they do nothing): 25,636,712 weights against 25,610,152 here."""
    return resnet("ResNet50", bottleneck_block, (3, 4, 6, 3), include_top, weights, input_tensor, input_shape,
                  pooling, classes, classifier_activation, name)


def ResNet101(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnet101"):
    """ResNet-101: bottleneck blocks [3, 4, 23, 3]."""
    return resnet("ResNet101", bottleneck_block, (3, 4, 23, 3), include_top, weights, input_tensor, input_shape,
                  pooling, classes, classifier_activation, name)


def ResNet152(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnet152"):
    """ResNet-152: bottleneck blocks [3, 8, 36, 3]."""
    return resnet("ResNet152", bottleneck_block, (3, 8, 36, 3), include_top, weights, input_tensor, input_shape,
                  pooling, classes, classifier_activation, name)


def cifar_resnet(depth, include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                 classes=10, classifier_activation="softmax", name=None):
    """The CIFAR-10 ResNet of section 4.2 with ``depth`` = 6n + 2 layers: a 3x3 convolution with 16 filters,
    three stages of n basic blocks with 16, 32, 64 filters on 32x32, 16x16, 8x8 maps, option A (zero-padded
    identity) shortcuts, global average pooling and the top."""
    who = f"ResNet{depth}"
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(f"cifar_resnet: depth must be 6n + 2 (20, 32, 44, 56, 110, ...), got {depth!r}")
    check_arguments(who, weights, pooling, classes)
    inputs = model_input(who, input_tensor, input_shape, include_top, 32, min_size=8)
    x = conv_bn(inputs, 16, 3, "conv1")
    for stage in range(3):
        for i in range((depth - 2) // 6):
            strides = 2 if stage > 0 and i == 0 else 1
            x = basic_block(x, 16 * 2 ** stage, strides, f"conv{stage + 2}_block{i + 1}", _zero_padded_shortcut)
    x = pooled_classifier(x, include_top, pooling, classes, classifier_activation)
    return functional_model(inputs, x, name or who.lower())


def ResNet20(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
             classifier_activation="softmax", name="resnet20"):
    """CIFAR-10 ResNet-20 (n = 3), 0.27M parameters (table 6)."""
    return cifar_resnet(20, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


def ResNet32(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
             classifier_activation="softmax", name="resnet32"):
    """CIFAR-10 ResNet-32 (n = 5), 0.46M parameters (table 6)."""
    return cifar_resnet(32, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


def ResNet56(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
             classifier_activation="softmax", name="resnet56"):
    """CIFAR-10 ResNet-56 (n = 9), 0.85M parameters (table 6)."""
    return cifar_resnet(56, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)
