"""Pooling layers, channels last: max and average over 1, 2 or 3 spatial axes, and their global forms."""
from __future__ import annotations

from .. import ops
from ..ops import pooling as P
from ..ops.reduction import max as reduce_max
from .base import Layer, int_tuple
from .convolutional import AXES, check_data_format, check_padding, conv_output_shape


class _Pooling(Layer):
    rank = 2
    pool_op = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.input_ndim, cls.input_axes = cls.rank + 2, AXES[cls.rank]

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.pool_size = int_tuple(who, "pool_size", pool_size, self.rank)
        self.strides = self.pool_size if strides is None else int_tuple(who, "strides", strides, self.rank)
        self.padding = check_padding(who, padding)
        self.data_format = check_data_format(who, data_format)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        return type(self).pool_op(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.pool_size, self.strides, self.padding, (1,) * self.rank,
                                 input_shape[-1], window="pool_size")

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    rank = 1
    pool_op = staticmethod(P.max_pool1d)


class AveragePooling1D(_Pooling):
    rank = 1
    pool_op = staticmethod(P.avg_pool1d)


class MaxPooling2D(_Pooling):
    pool_op = staticmethod(P.max_pool2d)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(MaxPooling2D):
    pool_op = staticmethod(P.avg_pool2d)


class MaxPooling3D(_Pooling):
    rank = 3
    pool_op = staticmethod(P.max_pool3d)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(MaxPooling3D):
    pool_op = staticmethod(P.avg_pool3d)


class _GlobalPooling(Layer):
    rank = 2

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.input_ndim, cls.input_axes = cls.rank + 2, AXES[cls.rank]

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(self.describe(), data_format)
        self.keepdims = bool(keepdims)

    def call(self, inputs, training=None):
        return self.reduce(inputs, axis=tuple(range(1, self.rank + 1)), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class _GlobalAverage(_GlobalPooling):
    reduce = staticmethod(ops.mean)


class _GlobalMax(_GlobalPooling):
    reduce = staticmethod(reduce_max)


class GlobalAveragePooling1D(_GlobalAverage):
    """With a mask (batch, steps), the mean over the unmasked steps only, as Keras."""

    rank = 1
    supports_masking = True

    def call(self, inputs, training=None, mask=None):
        if mask is None:
            return super().call(inputs)
        from .masking import check_mask, masked_mean
        y = masked_mean(inputs, check_mask(self, mask, inputs.shape[:2]), axis=1)
        return ops.expand_dims(y, 1) if self.keepdims else y

    def compute_mask(self, inputs, previous_mask=None):
        return None


class GlobalAveragePooling2D(_GlobalAverage):
    rank = 2


class GlobalAveragePooling3D(_GlobalAverage):
    rank = 3


class GlobalMaxPooling1D(_GlobalMax):
    rank = 1


class GlobalMaxPooling2D(_GlobalMax):
    """Max over height and width; the window-sized max_pool2d kernel does the work."""

    rank = 2

    def call(self, inputs, training=None):
        h, w = inputs.shape[1:3]
        y = P.max_pool2d(inputs, (h, w), (h, w), "valid")
        return y if self.keepdims else ops.reshape(y, (y.shape[0], y.shape[3]))


class GlobalMaxPooling3D(_GlobalMax):
    rank = 3


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = GlobalAveragePooling1D, GlobalAveragePooling2D, \
    GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
