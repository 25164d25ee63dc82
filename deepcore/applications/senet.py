"""Squeeze-and-excitation networks (Hu, Shen, Albanie, Sun & Wu 2018): each residual branch is rescaled
channel by channel by weights computed from its own global average (figure 3)."""
from __future__ import annotations

import functools

from .. import layers
from .resnet import bottleneck_block, resnet


def squeeze_excite(x, name, ratio=16):
    """Squeeze (global average pooling), excite (Dense C/ratio with ReLU, Dense C with sigmoid), and scale
    ``x`` by the result (section 3)."""
    channels = x.shape[-1]
    if None in x.shape[1:3]:
        raise ValueError(f"squeeze_excite '{name}': needs a static height and width, got shape {x.shape}; "
                         f"give the model an input_shape")
    s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_squeeze")(x)
    s = layers.Dense(channels // ratio, activation="relu", name=f"{name}_se_reduce")(s)
    s = layers.Dense(channels, activation="sigmoid", name=f"{name}_se_expand")(s)
    # Multiply does not broadcast (1, 1, C) against (H, W, C): repeat the scales over the map first
    s = layers.UpSampling2D(size=x.shape[1:3], name=f"{name}_se_broadcast")(s)
    return layers.Multiply(name=f"{name}_se_scale")([x, s])


def se_bottleneck_block(x, filters, strides, name, ratio=16):
    """ResNet's bottleneck with a squeeze-and-excitation unit on its residual, before the addition (figure 3)."""
    return bottleneck_block(x, filters, strides, name, recalibrate=functools.partial(squeeze_excite, ratio=ratio))


def SEResNet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
               classifier_activation="softmax", ratio=16, name="se_resnet50"):
    """SE-ResNet-50 (table 1): ResNet-50 of SE bottlenecks with reduction ``ratio``. Needs a static
    input_shape (224x224 without one)."""
    block = functools.partial(se_bottleneck_block, ratio=ratio)
    if input_tensor is None and input_shape is None:
        input_shape = (224, 224, 3)
    return resnet("SEResNet50", block, (3, 4, 6, 3), include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name)
