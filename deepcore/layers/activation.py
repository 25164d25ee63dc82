"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax (Keras 3), and Maxout, RBF (not in Keras)."""
from __future__ import annotations

import numbers

from .. import initializers, ops, regularizers
from ..autograd import arithmetic as A
from ..autograd.tensor import unwrap
from ..backend import get_array_module
from ..ops.activations import elu, leaky_relu, log_softmax, prelu, relu, softmax
from ..ops.reduction import max as reduce_max
from .base import Layer, positive_int


def number(layer, argument, value, minimum=None, allow_none=False):
    """A real number (optionally >= minimum), else a ValueError naming the layer."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{layer}: {argument} must be a number{bound}, got {value!r}")
    return float(value)


class _Elementwise(Layer):
    supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class ReLU(_Elementwise):
    """Keras' ReLU: max_value caps the output, threshold moves the kink, negative_slope leaks below it."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.max_value = number(who, "max_value", max_value, 0.0, allow_none=True)
        self.negative_slope = number(who, "negative_slope", negative_slope, 0.0)
        self.threshold = number(who, "threshold", threshold, 0.0)

    def call(self, inputs, training=None):
        return relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """x where x > 0, else negative_slope * x (Keras 2's ``alpha`` is accepted, as Keras 3 does)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        negative_slope = kwargs.pop("alpha", negative_slope)
        super().__init__(**kwargs)
        self.negative_slope = number(self.describe(), "negative_slope", negative_slope, 0.0)

    def call(self, inputs, training=None):
        return leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(_Elementwise):
    """max(x, 0) + alpha * min(x, 0) with a learned ``alpha`` of shape input_shape[1:], of size 1 on shared_axes."""

    input_min_ndim = 2

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise ValueError(f"{self.describe()}: weight constraints are not supported, got "
                             f"alpha_constraint={alpha_constraint!r}")
        if shared_axes is not None:
            shared_axes = [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)
            for axis in shared_axes:
                positive_int(self.describe(), "shared_axes", axis)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint, self.shared_axes = None, shared_axes

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis >= len(input_shape):
                raise ValueError(f"{self.describe()}: shared_axes {self.shared_axes} out of range for input of "
                                 f"shape {tuple(input_shape)}")
            shape[axis - 1] = 1
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer, regularizer=self.alpha_regularizer,
                                     name="alpha")

    def call(self, inputs, training=None):
        return prelu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer), "alpha_constraint": None,
                "shared_axes": self.shared_axes}


class ELU(_Elementwise):
    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = number(self.describe(), "alpha", alpha)

    def call(self, inputs, training=None):
        return elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"{self.describe()}: axis must be an int, got {axis!r}")
        self.axis = axis

    def call(self, inputs, training=None, mask=None):
        """``mask`` (broadcastable to the input, True = keep) pushes masked entries to ~0 probability."""
        if not -inputs.ndim <= self.axis < inputs.ndim:
            raise ValueError(f"{self.describe()}: axis {self.axis} out of range for input of shape {inputs.shape}")
        if mask is not None:
            keep = get_array_module(inputs.data).asarray(unwrap(mask)).astype(inputs.dtype)
            inputs = A.add(inputs, (1 - keep) * -1e9)
        return softmax(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class LogSoftmax(Softmax):
    def call(self, inputs, training=None):
        return log_softmax(inputs, axis=self.axis)


class Maxout(Layer):
    """Goodfellow et al. 2013: split ``axis`` into ``num_units`` groups of consecutive channels, keep each max.

    As TensorFlow Addons' ``Maxout``: channel c belongs to unit c // (channels / num_units).
    """

    input_min_ndim = 2

    def __init__(self, num_units, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.num_units = positive_int(self.describe(), "num_units", num_units)
        self.axis = axis

    def build(self, input_shape):
        channels = input_shape[self.axis]
        if channels is not None and channels % self.num_units:
            raise ValueError(f"{self.describe()}: the size of axis {self.axis} ({channels}) must be a multiple of "
                             f"num_units={self.num_units}")

    def call(self, inputs, training=None):
        axis = self.axis % inputs.ndim
        shape = inputs.shape
        grouped = A.reshape(inputs, shape[:axis] + (self.num_units, shape[axis] // self.num_units) + shape[axis + 1:])
        return reduce_max(grouped, axis=axis + 1)

    def compute_output_shape(self, input_shape):
        axis = self.axis % len(input_shape)
        return tuple(input_shape[:axis]) + (self.num_units,) + tuple(input_shape[axis + 1:])

    def get_config(self):
        return {**super().get_config(), "num_units": self.num_units, "axis": self.axis}


class RBF(Layer):
    """Gaussian radial basis units: y_j = exp(-gamma * ||x - c_j||^2) over the last axis.

    ``centers`` has shape (units, features): one template per unit ("template matching").
    """

    input_min_ndim = 2
    input_axes = "batch, ..., features"

    def __init__(self, units, gamma=1.0, centers_initializer="random_uniform", centers_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(self.describe(), "units", units)
        self.gamma = number(self.describe(), "gamma", gamma, 0.0)
        self.centers_initializer = initializers.get(centers_initializer)
        self.centers_regularizer = regularizers.get(centers_regularizer)

    def build(self, input_shape):
        self.centers = self.add_weight((self.units, input_shape[-1]), self.centers_initializer,
                                       regularizer=self.centers_regularizer, name="centers")

    def call(self, inputs, training=None):
        # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2: one GEMM instead of a (batch, units, features) difference
        squared = A.add(A.sub(A.sum(A.mul(inputs, inputs), axis=-1, keepdims=True),
                              A.mul(A.matmul(inputs, A.transpose(self.centers)), 2.0)),
                        A.sum(A.mul(self.centers, self.centers), axis=-1))
        return A.exp(A.mul(ops.relu(squared), -self.gamma))  # relu: rounding may leave tiny negatives

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gamma": self.gamma,
                "centers_initializer": initializers.serialize(self.centers_initializer),
                "centers_regularizer": regularizers.serialize(self.centers_regularizer)}
