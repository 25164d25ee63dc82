"""What the models of the zoo share (Keras' ``imagenet_utils``): argument checks, the input tensor, the
classifier head, and the conv + batch norm + ReLU unit of the batch-normalized families."""
from __future__ import annotations

from .. import layers
from ..layers.base import KerasTensor
from ..layers.core import Input, InputLayer
from ..models.model import Model, _topological_nodes

BN_EPSILON = 1.001e-5  # Keras applications' batch-norm epsilon (PyTorch's is 1e-5)


def check_arguments(name, weights, pooling, classes):
    if weights is not None:
        raise ValueError(f"{name}: weights must be None (random initialization), got weights={weights!r}. "
                         f"deepcore downloads nothing, so no pretrained weights come with it; build the model "
                         f"with weights=None, then call model.load_weights(path) on a weights file you have.")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{name}: pooling must be None, 'avg' or 'max', got {pooling!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ValueError(f"{name}: classes must be a positive int, got {classes!r}")


def model_input(name, input_tensor, input_shape, include_top, default_size, min_size=32, channels=3):
    """``input_tensor`` when given; else ``Input(input_shape)``, where ``input_shape`` defaults as in Keras'
    ``obtain_input_shape``: (default_size, default_size, channels) with the top, (None, None, channels)
    without it."""
    if input_tensor is not None:
        if not isinstance(input_tensor, KerasTensor) or input_tensor.ndim != 4:
            raise TypeError(f"{name}: input_tensor must be a symbolic image tensor (batch, height, width, "
                            f"channels) from keras.Input and layer calls, got {input_tensor!r}")
        return input_tensor
    if input_shape is None:
        input_shape = (default_size, default_size, channels) if include_top else (None, None, channels)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"{name}: input_shape must be (height, width, channels), got {input_shape!r}")
    if include_top and None in input_shape:
        raise ValueError(f"{name}: include_top=True needs a static input_shape, got {input_shape!r}")
    if any(d is not None and d < min_size for d in input_shape[:2]):
        raise ValueError(f"{name}: input height and width must be at least {min_size}, got "
                         f"input_shape={input_shape!r}")
    return Input(input_shape)


def pool_features(x, pooling):
    """The output without the top: the last feature map, or its global average or maximum."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def flat_classifier(x, include_top, pooling, classes, classifier_activation, hidden, activation="relu",
                    dropout=0.0):
    """The top of LeNet, AlexNet and VGG: flatten, the ``hidden`` Dense layers (fc1, fc2, ...) each
    [followed by dropout], then the output Dense layer. Without the top: ``pool_features``."""
    if not include_top:
        return pool_features(x, pooling)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(hidden, 1):
        x = layers.Dense(units, activation=activation, name=f"fc{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def pooled_classifier(x, include_top, pooling, classes, classifier_activation, dropout=0.0):
    """The top of the global-pooling families (GoogLeNet, ResNet, DenseNet, ...): average over space,
    [dropout,] one Dense layer. Without the top: ``pool_features``."""
    if not include_top:
        return pool_features(x, pooling)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def functional_model(inputs, outputs, name):
    """``Model(inputs, outputs)`` where ``inputs`` may be a tensor computed from keras.Input (an
    ``input_tensor``): the model's inputs are then the Inputs it came from, as Keras' get_source_inputs."""
    sources = [tensor for tensor in _topological_nodes([inputs]) if isinstance(tensor.layer, InputLayer)]
    return Model(sources[0] if len(sources) == 1 else sources, outputs, name=name)


def conv_bn(x, filters, kernel_size, name, strides=1, groups=1, relu=True):
    """Conv2D without bias (batch norm's beta is the shift), BatchNormalization, then [ReLU].
    A strided conv first pads kernel_size // 2 on every side, as PyTorch and Caffe do: Keras' 'same'
    would pad only the bottom and right of an even-sized input. He initialization (He et al. 2015)."""
    padding = "same"
    if strides > 1 and kernel_size > 1:
        x = layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
        padding = "valid"
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x
