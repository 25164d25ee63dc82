"""DepthwiseConv2D and SeparableConv2D (MobileNet, Xception), Keras weight layouts."""
from __future__ import annotations

from .. import initializers, regularizers
from ..ops.conv import conv2d
from ..ops.conv_nd import depthwise_conv
from .base import int_tuple, positive_int
from .convolutional import WeightedLayer, check_data_format, check_padding, conv_output_shape


class DepthwiseConv2D(WeightedLayer):
    """Each input channel c gets its own depth_multiplier filters; kernel (kh, kw, in, depth_multiplier),
    output channel c * depth_multiplier + m."""

    input_ndim = 4
    input_axes = "batch, height, width, channels"

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.kernel_size = int_tuple(who, "kernel_size", kernel_size)
        self.strides = int_tuple(who, "strides", strides)
        self.dilation_rate = int_tuple(who, "dilation_rate", dilation_rate)
        self.padding = check_padding(who, padding)
        self.data_format = check_data_format(who, data_format)
        self.depth_multiplier = positive_int(who, "depth_multiplier", depth_multiplier)
        self._init_weights_args(activation, use_bias, depthwise_initializer, bias_initializer,
                                depthwise_regularizer, bias_regularizer)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        channels = input_shape[-1]
        self._add_kernel_and_bias(self.kernel_size + (channels, self.depth_multiplier),
                                  channels * self.depth_multiplier)

    def call(self, inputs, training=None):
        y = depthwise_conv(inputs, self.kernel, self.strides, self.padding, self.dilation_rate)
        return self._bias_activation(y)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, input_shape[-1] * self.depth_multiplier)

    def get_config(self):
        config = {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                  "padding": self.padding, "depth_multiplier": self.depth_multiplier,
                  "data_format": self.data_format, "dilation_rate": self.dilation_rate, **self._weights_config()}
        config["depthwise_initializer"] = config.pop("kernel_initializer")
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        return config


class SeparableConv2D(DepthwiseConv2D):
    """A depthwise convolution followed by a 1x1 convolution to ``filters`` channels; weights
    depthwise_kernel (kh, kw, in, depth_multiplier), pointwise_kernel (1, 1, in * depth_multiplier, filters), bias."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                         bias_regularizer, **kwargs)
        self.filters = positive_int(self.describe(), "filters", filters)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        channels = input_shape[-1]
        self.depthwise_kernel = self.add_weight(self.kernel_size + (channels, self.depth_multiplier),
                                                self.kernel_initializer, regularizer=self.kernel_regularizer,
                                                name="depthwise_kernel")
        self.pointwise_kernel = self.add_weight((1, 1, channels * self.depth_multiplier, self.filters),
                                                self.pointwise_initializer, regularizer=self.pointwise_regularizer,
                                                name="pointwise_kernel")
        self.bias = self.add_weight((self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    name="bias") if self.use_bias else None

    def call(self, inputs, training=None):
        y = depthwise_conv(inputs, self.depthwise_kernel, self.strides, self.padding, self.dilation_rate)
        return self._bias_activation(conv2d(y, self.pointwise_kernel))

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.kernel_size, self.strides, self.padding,
                                 self.dilation_rate, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer)}
