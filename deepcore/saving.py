"""``dc.saving``: Keras 3's saving names, and the registry that lets custom classes load.

A class registered with ``@register_keras_serializable()`` (or passed in
``custom_objects``) is found by name when a model file names it; nothing
else is ever constructed from a file.
"""
from __future__ import annotations

_REGISTRY: dict = {}


def register_keras_serializable(package="Custom", name=None):
    """Class decorator: make a custom layer (or model) loadable by its registered name."""
    def register(cls):
        key = f"{package}>{name or cls.__name__}"
        _REGISTRY[key] = cls
        _REGISTRY[name or cls.__name__] = cls
        cls._registered_name = key
        return cls
    return register


def get_custom_objects() -> dict:
    return _REGISTRY


def get_registered_object(name, custom_objects=None):
    """The class registered (or given in ``custom_objects``) under ``name``, or None."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _REGISTRY.get(name)


def save_model(model, filepath):
    model.save(filepath)


def load_model(filepath, custom_objects=None, compile=True):
    from .models.saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)
