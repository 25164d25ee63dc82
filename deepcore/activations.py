"""Activation functions by name, as Keras' ``keras.activations``."""
from __future__ import annotations

from .ops.activations import leaky_relu, linear, relu, sigmoid, softmax, tanh

_BY_NAME = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "linear": linear,
            "leaky_relu": leaky_relu}


def get(identifier):
    """A callable activation from a name, None (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown activation {identifier!r}; expected one of {sorted(_BY_NAME)}")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"activations.get: expected a name or a callable, got {type(identifier).__name__}")


def serialize(activation):
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", str(activation))
