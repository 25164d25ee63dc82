"""Convolution layers Conv1D/2D/3D, channels last, kernel (*kernel_size, in / groups, filters) as Keras."""
from __future__ import annotations

from .. import activations, initializers, ops, regularizers
from ..backend.reference import conv_output_size
from ..ops.conv import conv2d_bias, resolve_padding
from ..ops.conv_nd import conv
from .base import Layer, int_tuple, positive_int

AXES = {1: "batch, steps, channels", 2: "batch, height, width, channels",
        3: "batch, depth, height, width, channels"}


def check_padding(layer, padding, allowed=("valid", "same")):
    if padding not in allowed:
        names = [repr(a) for a in allowed]
        raise ValueError(f"{layer}: padding must be {', '.join(names[:-1])} or {names[-1]}, got {padding!r}")
    return padding


def check_data_format(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer}: only data_format='channels_last' is supported, got {data_format!r}")
    return data_format


def conv_output_shape(layer, input_shape, kernel_size, strides, padding, dilation_rate, channels, window="kernel"):
    """(batch, *spatial, channels) after a convolution or pooling window; raises when the input is too small."""
    spatial = input_shape[1:-1]
    if padding == "causal":
        padding, pads = "valid", [((k - 1) * d, 0) for k, d in zip(kernel_size, dilation_rate)]
    else:
        pads = resolve_padding(padding, [n or 1 for n in spatial], kernel_size, strides, dilation_rate)
    sizes = []
    for n, k, s, p, d in zip(spatial, kernel_size, strides, pads, dilation_rate):
        out = None if n is None else conv_output_size(n, k, s, *p, d)
        if out is not None and out < 1:
            dilated = f" (dilation {dilation_rate})" if max(dilation_rate) > 1 else ""
            raise ValueError(f"{layer.describe()}: input of shape {tuple(input_shape)} is smaller than the {window} "
                             f"{kernel_size}{dilated} with padding '{padding}'")
        sizes.append(out)
    return (input_shape[0], *sizes, channels)


class WeightedLayer(Layer):
    """Holds Keras' kernel/bias arguments and applies bias + activation (fused bias+ReLU where possible)."""

    def _init_weights_args(self, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                           bias_regularizer):
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def _add_kernel_and_bias(self, kernel_shape, units):
        self.kernel = self.add_weight(kernel_shape, self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      name="kernel")
        self.bias = self.add_weight((units,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    name="bias") if self.use_bias else None

    def _bias_activation(self, y):
        if self.bias is None:
            return self.activation(y)
        if self.activation is ops.relu:
            return ops.bias_relu(y, self.bias)
        return self.activation(ops.bias_add(y, self.bias))

    def _weights_config(self):
        return {"activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


class BaseConv(WeightedLayer):
    rank = 2

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.input_ndim, cls.input_axes = cls.rank + 2, AXES[cls.rank]

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        who, rank = self.describe(), self.rank
        self.filters = positive_int(who, "filters", filters)
        self.kernel_size = int_tuple(who, "kernel_size", kernel_size, rank)
        self.strides = int_tuple(who, "strides", strides, rank)
        self.dilation_rate = int_tuple(who, "dilation_rate", dilation_rate, rank)
        self.padding = check_padding(who, padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"))
        self.data_format = check_data_format(who, data_format)
        self.groups = positive_int(who, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"{who}: filters ({self.filters}) must be a multiple of groups ({self.groups})")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{who}: strides > 1 together with dilation_rate > 1 is not supported (as Keras), got "
                             f"strides={self.strides}, dilation_rate={self.dilation_rate}")
        self._init_weights_args(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                bias_regularizer)

    def build(self, input_shape):
        if input_shape[-1] % self.groups:
            raise ValueError(f"{self.describe()}: input channels ({input_shape[-1]}) must be a multiple of "
                             f"groups ({self.groups})")
        self.compute_output_shape(input_shape)  # raises if the input is smaller than the kernel
        self._add_kernel_and_bias(self.kernel_size + (input_shape[-1] // self.groups, self.filters), self.filters)

    def call(self, inputs, training=None):
        if self.kernel.ndim == 4 and self.groups == 1 and self.bias is not None and \
                self.activation in (ops.relu, ops.linear):  # one kernel: the bias and ReLU as the conv's epilogue
            return conv2d_bias(inputs, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate,
                               relu=self.activation is ops.relu)
        y = conv(inputs, self.kernel, self.strides, self.padding, self.dilation_rate, self.groups)
        return self._bias_activation(y)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups, **self._weights_config()}


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels); padding may also be 'causal' (WaveNet)."""

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution; ``groups`` splits channels into independent groups (ResNeXt's cardinality)."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, **kwargs)


class Conv3D(BaseConv):
    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, **kwargs)
