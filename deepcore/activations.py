"""Activation functions by name, as Keras' ``keras.activations``."""
from __future__ import annotations

from .ops.activations import (crelu, elu, exponential, gelu, hard_sigmoid, hard_silu, hard_swish, leaky_relu,
                              linear, log_softmax, mish, relu, relu6, selu, sigmoid, silu, softmax, softplus,
                              softsign, swish, tanh)

_BY_NAME = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "linear": linear,
            "leaky_relu": leaky_relu, "relu6": relu6, "elu": elu, "selu": selu, "softplus": softplus,
            "softsign": softsign, "silu": silu, "swish": swish, "gelu": gelu, "hard_sigmoid": hard_sigmoid,
            "hard_silu": hard_silu, "hard_swish": hard_swish, "exponential": exponential, "mish": mish,
            "log_softmax": log_softmax, "crelu": crelu}


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
