"""Convolution layers (NHWC, kernel (kh, kw, in, out) as Keras)."""
from __future__ import annotations

from .. import activations, initializers, ops, regularizers
from ..backend.reference import conv_output_size
from ..ops.conv import resolve_padding
from .base import Layer, int_tuple, positive_int


class Conv2D(Layer):
    input_ndim = 4
    input_axes = "batch, height, width, channels"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.filters = positive_int(who, "filters", filters)
        self.kernel_size = int_tuple(who, "kernel_size", kernel_size)
        self.strides = int_tuple(who, "strides", strides)
        self.dilation_rate = int_tuple(who, "dilation_rate", dilation_rate)
        if padding not in ("valid", "same"):
            raise ValueError(f"{who}: padding must be 'valid' or 'same', got {padding!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{who}: only data_format='channels_last' (NHWC) is supported, got {data_format!r}")
        if groups != 1:
            raise ValueError(f"{who}: groups > 1 is not supported yet, got groups={groups!r}")
        self.padding, self.data_format, self.groups = padding, data_format, groups
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # raises if the image is smaller than the kernel
        self.kernel = self.add_weight(self.kernel_size + (input_shape[-1], self.filters), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.bias = self.add_weight((self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    name="bias") if self.use_bias else None

    def call(self, inputs, training=None):
        y = ops.conv2d(inputs, self.kernel, self.strides, self.padding, self.dilation_rate)
        if self.bias is None:
            return self.activation(y)
        if self.activation is ops.relu:
            return ops.bias_relu(y, self.bias)
        return self.activation(ops.bias_add(y, self.bias))

    def compute_output_shape(self, input_shape):
        sizes = []
        pads = resolve_padding(self.padding, [d or 1 for d in input_shape[1:3]], self.kernel_size, self.strides,
                               self.dilation_rate)
        for axis in range(2):
            size = input_shape[1 + axis]
            out = None if size is None else conv_output_size(size, self.kernel_size[axis], self.strides[axis],
                                                             *pads[axis], self.dilation_rate[axis])
            if out is not None and out < 1:
                raise ValueError(f"{self.describe()}: input of shape {tuple(input_shape)} is smaller than the "
                                 f"kernel {self.kernel_size} (dilation {self.dilation_rate}) with padding "
                                 f"'{self.padding}'")
            sizes.append(out)
        return (input_shape[0], *sizes, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}
