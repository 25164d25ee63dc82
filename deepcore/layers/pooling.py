"""Pooling layers, NHWC: max, average and their global forms."""
from __future__ import annotations

from .. import ops
from ..backend.reference import conv_output_size
from ..ops.conv import resolve_padding
from .base import Layer, int_tuple


class _Pooling2D(Layer):
    input_ndim = 4
    input_axes = "batch, height, width, channels"
    pool_op = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.pool_size = int_tuple(who, "pool_size", pool_size)
        self.strides = self.pool_size if strides is None else int_tuple(who, "strides", strides)
        if padding not in ("valid", "same"):
            raise ValueError(f"{who}: padding must be 'valid' or 'same', got {padding!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{who}: only data_format='channels_last' (NHWC) is supported, got {data_format!r}")
        self.padding, self.data_format = padding, data_format

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        return type(self).pool_op(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        pads = resolve_padding(self.padding, [d or 1 for d in input_shape[1:3]], self.pool_size, self.strides)
        sizes = []
        for axis in range(2):
            size = input_shape[1 + axis]
            out = None if size is None else conv_output_size(size, self.pool_size[axis], self.strides[axis],
                                                             *pads[axis])
            if out is not None and out < 1:
                raise ValueError(f"{self.describe()}: input of shape {tuple(input_shape)} is smaller than "
                                 f"pool_size {self.pool_size} with padding '{self.padding}'")
            sizes.append(out)
        return (input_shape[0], *sizes, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    pool_op = staticmethod(ops.max_pool2d)


class AveragePooling2D(_Pooling2D):
    pool_op = staticmethod(ops.avg_pool2d)


class _GlobalPooling2D(Layer):
    input_ndim = 4
    input_axes = "batch, height, width, channels"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{self.describe()}: only data_format='channels_last' is supported, got {data_format!r}")
        self.data_format, self.keepdims = data_format, keepdims

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[3])
        return (input_shape[0], input_shape[3])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    def call(self, inputs, training=None):
        return ops.mean(inputs, axis=(1, 2), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    def call(self, inputs, training=None):
        h, w = inputs.shape[1:3]
        y = ops.max_pool2d(inputs, (h, w), (h, w), "valid")
        return y if self.keepdims else ops.reshape(y, (y.shape[0], y.shape[3]))


MaxPool2D, AvgPool2D = MaxPooling2D, AveragePooling2D
