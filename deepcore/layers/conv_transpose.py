"""Conv2DTranspose (kernel (kh, kw, filters, in) as Keras): learned upsampling, the adjoint of Conv2D."""
from __future__ import annotations

from ..ops.conv import conv2d_transpose, conv_transpose_output_size
from .base import int_tuple, positive_int
from .convolutional import WeightedLayer, check_data_format, check_padding


class Conv2DTranspose(WeightedLayer):
    """Output size as Keras: in*stride (+ max(kernel - stride, 0) for 'valid'), or with output_padding
    (in - 1)*stride + kernel - 2*pad + output_padding, pad = kernel // 2 for 'same'."""

    input_ndim = 4
    input_axes = "batch, height, width, channels"

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.filters = positive_int(who, "filters", filters)
        self.kernel_size = int_tuple(who, "kernel_size", kernel_size)
        self.strides = int_tuple(who, "strides", strides)
        self.dilation_rate = int_tuple(who, "dilation_rate", dilation_rate)
        self.padding = check_padding(who, padding)
        self.data_format = check_data_format(who, data_format)
        if output_padding is not None:
            output_padding = (output_padding,) * 2 if isinstance(output_padding, int) else tuple(output_padding)
            if len(output_padding) != 2 or not all(isinstance(p, int) and 0 <= p < s
                                                   for p, s in zip(output_padding, self.strides)):
                raise ValueError(f"{who}: output_padding must be ints >= 0 and smaller than strides "
                                 f"{self.strides}, got {output_padding!r}")
        self.output_padding = output_padding
        self._init_weights_args(activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                                bias_regularizer)

    def build(self, input_shape):
        self._add_kernel_and_bias(self.kernel_size + (self.filters, input_shape[-1]), self.filters)

    def call(self, inputs, training=None):
        y = conv2d_transpose(inputs, self.kernel, self.strides, self.padding, self.output_padding,
                             self.dilation_rate)
        return self._bias_activation(y)

    def compute_output_shape(self, input_shape):
        extra = self.output_padding or (None, None)
        sizes = tuple(None if n is None else conv_transpose_output_size(n, k, s, self.padding, e, d)
                      for n, k, s, e, d in zip(input_shape[1:3], self.kernel_size, self.strides, extra,
                                               self.dilation_rate))
        return (input_shape[0], *sizes, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "output_padding": self.output_padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate, **self._weights_config()}
