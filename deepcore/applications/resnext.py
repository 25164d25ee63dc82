"""ResNeXt (Xie, Girshick, Dollár, Tu & He 2017, "Aggregated residual transformations for deep neural
networks"): ResNet's bottleneck with its 3x3 convolution split into groups, the "cardinality" (figure 3c)."""
from __future__ import annotations

from .resnet import bottleneck_block, resnet


def resnext_block(x, filters, strides, name):
    """The 32x4d bottleneck: 32 groups of 4 channels per 64 filters in the 3x3 convolution (128 channels in the
    first stage, up to 1024 in the last)."""
    return bottleneck_block(x, filters, strides, name, groups=32, width_per_group=4)


def ResNeXt50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnext50"):
    """ResNeXt-50 (32x4d), table 1: ResNet-50's stages [3, 4, 6, 3] of 32x4d bottlenecks."""
    return resnet("ResNeXt50", resnext_block, (3, 4, 6, 3), include_top, weights, input_tensor, input_shape,
                  pooling, classes, classifier_activation, name)
