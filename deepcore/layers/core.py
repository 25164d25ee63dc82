"""Core layers: Input, Dense, Activation, Flatten, Reshape."""
from __future__ import annotations

import math

from .. import activations, constraints, initializers, ops, regularizers
from .base import KerasTensor, Layer, positive_int


class InputLayer(Layer):
    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if shape is None or any(d is not None and (not isinstance(d, int) or d < 1) for d in tuple(shape)):
            raise ValueError(f"Input: shape must be a tuple of positive ints (without the batch axis), got {shape!r}")
        self.shape = tuple(shape)
        self.batch_size = batch_size
        self.output = KerasTensor((batch_size,) + self.shape, layer=self, dtype=self.dtype)
        self.built = True

    def call(self, inputs, training=None):
        return inputs

    def get_config(self):
        return {"shape": self.shape, "batch_size": self.batch_size, "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None):
    """A symbolic input of the functional API (``shape`` excludes the batch axis)."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name).output


class Dense(Layer):
    """y = activation(x @ kernel + bias), kernel (in, out); applies to the last axis."""

    input_min_ndim = 2
    input_axes = "batch, ..., features"

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(self.describe(), "units", units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.bias = self.add_weight((self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint, name="bias") if self.use_bias else None

    def call(self, inputs, training=None):
        if self.bias is None:
            return self.activation(ops.matmul(inputs, self.kernel))
        if self.activation is ops.relu:
            return ops.dense(inputs, self.kernel, self.bias, relu=True)
        return self.activation(ops.dense(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class Activation(Layer):
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs, training=None):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Flatten(Layer):
    input_min_ndim = 2
    input_axes = "batch, ..."

    def call(self, inputs, training=None):
        return ops.flatten(inputs)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def build(self, input_shape):
        known = math.prod(input_shape[1:])
        target = [d for d in self.target_shape if d != -1]
        if self.target_shape.count(-1) > 1 or (self.target_shape.count(-1) == 0 and math.prod(target) != known) \
                or known % math.prod(target):
            raise ValueError(f"{self.describe()}: cannot reshape input of shape {input_shape} to "
                             f"(batch,) + {self.target_shape}")

    def call(self, inputs, training=None):
        return ops.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        known = math.prod(input_shape[1:])
        rest = math.prod(d for d in self.target_shape if d != -1)
        return (input_shape[0],) + tuple(known // rest if d == -1 else d for d in self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}
