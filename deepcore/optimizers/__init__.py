"""Optimizers with Keras 3's names, defaults and update rules, updating weights in place.

``dc.optimizers.schedules`` is ``deepcore.schedules`` (learning-rate schedules).
"""
from __future__ import annotations

import sys

from .. import schedules
from .adam import Adam, Adamax, AdamW, Nadam
from .adaptive import Adadelta, Adagrad, RMSprop
from .optimizer import Optimizer
from .sgd import SGD

sys.modules[__name__ + ".schedules"] = schedules  # `from deepcore.optimizers.schedules import CosineDecay`

_BY_NAME = {cls.__name__.lower(): cls for cls in (SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta)}


def serialize(optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` as Keras writes it (schedules nested the same way)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizers.serialize: expected an Optimizer, got {type(optimizer).__name__}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None) -> Optimizer:
    """An optimizer from ``serialize``'s dict; ``custom_objects`` maps names to your own Optimizer classes."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"optimizers.deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}; expected one of {sorted(_BY_NAME)}")
    return cls.from_config(config.get("config", {}))


def get(identifier) -> Optimizer:
    """An Optimizer from an instance, a name ('adam'), or a ``serialize`` dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() not in _BY_NAME:
            raise ValueError(f"Unknown optimizer {identifier!r}; expected one of {sorted(_BY_NAME)}")
        return _BY_NAME[identifier.lower()]()
    raise TypeError(f"optimizers.get: expected an optimizer name, config dict or Optimizer, "
                    f"got {type(identifier).__name__}")


__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "schedules",
           "serialize", "deserialize", "get"]
