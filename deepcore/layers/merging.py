"""Layers that merge several inputs of one shape: Add, Subtract, Multiply, Average."""
from __future__ import annotations

import functools

from .. import ops
from .base import Layer


class _Merge(Layer):
    combine = None

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"{self.describe()}: expected a list of at least 2 inputs, got {input_shape!r}")
        first = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            if tuple(shape[1:]) != first:
                raise ValueError(f"{self.describe()}: all inputs must have the same shape, got {input_shape}")

    def call(self, inputs, training=None):
        return functools.reduce(type(self).combine, inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


class Add(_Merge):
    combine = staticmethod(ops.add)


class Subtract(_Merge):
    combine = staticmethod(ops.sub)


class Multiply(_Merge):
    combine = staticmethod(ops.mul)


class Average(_Merge):
    def call(self, inputs, training=None):
        return ops.mul(functools.reduce(ops.add, inputs), 1.0 / len(inputs))
