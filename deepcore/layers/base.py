"""Layer: Keras 3's shape — arguments checked in ``__init__``, weights made in
``build(input_shape)``, math in ``call(inputs, training=None)``, every
constructor argument returned by ``get_config()``.
"""
from __future__ import annotations

import functools
import inspect
import re
from collections import defaultdict

import numpy as np

from .. import initializers
from ..autograd.tensor import Tensor, as_tensor
from ..autograd.variable import Variable

_name_counts: dict = defaultdict(int)


def unique_name(base: str) -> str:
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def snake_case(name: str) -> str:
    """Keras' layer naming: 'Conv2D' -> 'conv2d', 'MaxPooling2D' -> 'max_pooling2d'."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def positive_int(layer, argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {argument} must be a positive int, got {value!r}")
    return int(value)


def int_tuple(layer, argument, value, n=2):
    """An int or a tuple of n positive ints (Keras' kernel_size/strides style)."""
    values = (value,) * n if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if not isinstance(values, (tuple, list)) or len(values) != n:
        raise ValueError(f"{layer}: {argument} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(positive_int(layer, argument, v) for v in values)


class KerasTensor:
    """A symbolic tensor of the functional API: a shape (batch axis None) and the layer call that made it."""

    def __init__(self, shape, layer=None, inputs=(), dtype="float32"):
        self.shape = tuple(shape)
        self.layer, self.inputs, self.dtype = layer, tuple(inputs), dtype

    ndim = property(lambda self: len(self.shape))

    def __repr__(self):
        source = f", from {self.layer.name}" if self.layer is not None else ""
        return f"<KerasTensor shape={self.shape}{source}>"


class Layer:
    """Base class of every layer (and of Model)."""

    # rank of the input (including batch) the layer accepts, and the axis names for error messages
    input_ndim: int | None = None
    input_min_ndim: int | None = None
    input_axes: str = ""

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype or "float32"
        self.built = False
        self._weights: list[Variable] = []
        self._losses: list = []
        self._build_input_shape = None
        if input_shape is not None:  # Keras 2 style first layer of a Sequential
            self._declared_input_shape = tuple(input_shape)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    def describe(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    # --- weights --------------------------------------------------------------
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True,
                   regularizer=None, name=None):
        init = initializers.get(initializer)
        variable = Variable(init(tuple(shape), dtype or self.dtype), name=f"{self.name}/{name or 'variable'}",
                            trainable=trainable)
        variable.regularizer = regularizer
        self._weights.append(variable)
        return variable

    def _sublayers(self):
        return [v for v in self.__dict__.values() if isinstance(v, Layer)] + \
            [layer for v in self.__dict__.values() if isinstance(v, (list, tuple))
             for layer in v if isinstance(layer, Layer)]

    @property
    def weights(self):
        found = list(self._weights)
        for layer in self._sublayers():
            found += [w for w in layer.weights if all(w is not f for f in found)]
        return found

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        found = [w for w in self._weights if w.trainable]
        for layer in self._sublayers():
            found += [w for w in layer.trainable_weights if all(w is not f for f in found)]
        return found

    @property
    def non_trainable_weights(self):
        trainable = self.trainable_weights
        return [w for w in self.weights if all(w is not t for t in trainable)]

    trainable_variables = trainable_weights
    variables = weights

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"{self.describe()}: set_weights expected {len(own)} arrays, got {len(weights)}")
        for variable, value in zip(own, weights):
            variable.assign(value)

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    @property
    def losses(self):
        """Regularization penalties of this layer's weights (recomputed each call, as Keras)."""
        penalties = [w.regularizer(w) for w in self._weights if w.regularizer is not None]
        for layer in self._sublayers():
            penalties += layer.losses
        return penalties

    # --- calling --------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def compute_output_shape(self, input_shape):
        """Output shape for ``input_shape`` by running ``call`` on small zero inputs.

        Unknown (None) dimensions are tried as 1 and as 2: an output dimension
        that changes between the two runs is unknown too.
        """
        from ..autograd.function import no_grad
        from ..backend.device import get_device

        xp = get_device().xp

        def run(unknown):
            concrete = lambda s: tuple(unknown if d is None else d for d in s)
            with no_grad():
                if isinstance(input_shape, list):
                    return self.call([Tensor(xp.zeros(concrete(s), "float32")) for s in input_shape]).shape
                return self.call(Tensor(xp.zeros(concrete(input_shape), "float32"))).shape

        first, second = run(1), run(2)
        return (None,) + tuple(a if a == b else None for a, b in zip(first[1:], second[1:]))

    def check_input_shape(self, shape):
        """Raise a clear error when the input's rank does not fit this layer."""
        rank = len(shape)
        bad = (self.input_ndim is not None and rank != self.input_ndim) or \
              (self.input_min_ndim is not None and rank < self.input_min_ndim)
        if bad:
            expected = f"rank {self.input_ndim}" if self.input_ndim else f"rank >= {self.input_min_ndim}"
            axes = f" ({self.input_axes})" if self.input_axes else ""
            raise ValueError(f"{self.describe()}: expected input of {expected}{axes}, got shape {tuple(shape)}")

    def _maybe_build(self, input_shape):
        if not self.built:
            if isinstance(input_shape, list):
                self.build(input_shape)
            else:
                self.check_input_shape(input_shape)
                self.build(tuple(input_shape))
            self._build_input_shape = input_shape
            self.built = True

    def __call__(self, inputs, training=None, **kwargs):
        if _is_symbolic(inputs):
            return self._call_symbolic(inputs, **kwargs)
        if isinstance(inputs, (list, tuple)):
            inputs = [as_tensor(x) for x in inputs]
            shapes = [x.shape for x in inputs]
        else:
            inputs = as_tensor(inputs)
            shapes = inputs.shape
            self.check_input_shape(shapes)
        self._maybe_build(shapes if isinstance(shapes, list) else tuple(shapes))
        self._check_built_shape(shapes)
        if accepts_training(type(self).call):
            kwargs["training"] = training
        return self.call(inputs, **kwargs)

    def _check_built_shape(self, shape):
        """Non-batch dimensions the weights were built for must match the input's."""
        built = self._build_input_shape
        if built is None or isinstance(built, list) or isinstance(shape, list):
            return
        if len(built) != len(shape) or any(b is not None and b != s for b, s in zip(built[1:], shape[1:])):
            expected = "(batch, " + ", ".join(str(d) for d in built[1:]) + ")"
            raise ValueError(f"{self.describe()}: expected input of shape {expected}, got shape {tuple(shape)}")

    def _call_symbolic(self, inputs, **kwargs):
        shapes = [x.shape for x in inputs] if isinstance(inputs, (list, tuple)) else inputs.shape
        if not isinstance(shapes, list):
            self.check_input_shape(shapes)
        self._maybe_build(shapes)
        output_shape = self.compute_output_shape(shapes)
        parents = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        return KerasTensor(output_shape, layer=self, inputs=parents)

    # --- config ---------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@functools.lru_cache(maxsize=None)
def accepts_training(call) -> bool:
    """Does this ``call`` take a ``training`` argument (user-written calls may not)?"""
    parameters = inspect.signature(call).parameters
    return "training" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


def _is_symbolic(inputs) -> bool:
    if isinstance(inputs, (list, tuple)):
        return any(isinstance(x, KerasTensor) for x in inputs)
    return isinstance(inputs, KerasTensor)
