"""Variable: a trainable (or not) weight, Keras' ``keras.Variable``."""
from __future__ import annotations

import numpy as np

from ..backend.device import get_array_module, to_device, device_of
from .tensor import Tensor, unwrap


class Variable(Tensor):
    """A named leaf Tensor that layers own; ``assign`` replaces its value in place."""

    regularized = 0  # Variables ever given a regularizer: while 0, Layer.losses skips looking for penalties
    tracking_version = 0  # bumped by what can change a model's trainable weights (Layer.__setattr__ too)

    def __init__(self, value, name: str = "variable", trainable: bool = True):
        super().__init__(value)
        self.name = name
        self.trainable = trainable
        self.requires_grad = trainable
        self._regularizer = None

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, trainable):
        self._trainable = trainable
        Variable.tracking_version += 1

    @property
    def regularizer(self):
        return self._regularizer

    @regularizer.setter
    def regularizer(self, regularizer):
        if regularizer is not None:
            Variable.regularized += 1
        self._regularizer = regularizer

    @property
    def value(self):
        return self.data

    def assign(self, value):
        """Copy ``value`` (array, Tensor or nested list) into this variable; shapes must match."""
        value = unwrap(value)
        if tuple(np.shape(value)) != self.shape:
            raise ValueError(f"Variable '{self.name}': cannot assign a value of shape {tuple(np.shape(value))} "
                             f"to a variable of shape {self.shape}")
        xp = get_array_module(self.data)
        self.data[...] = to_device(xp.asarray(value) if get_array_module(value) is xp else value,
                                   device_of(self.data)).astype(self.dtype, copy=False)
        return self

    def assign_add(self, value):
        return self.assign(self.data + to_device(unwrap(value), device_of(self.data)))

    def assign_sub(self, value):
        return self.assign(self.data - to_device(unwrap(value), device_of(self.data)))

    def __repr__(self):
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype}>"
