"""Saving and loading: a zip holding ``config.json`` and ``model.weights.safetensors``.

Writes go to a temporary file in the target's folder, renamed into place
(atomic: a crash never leaves half a model). Loading checks the format
version, rebuilds the model from its config through a registry of layer
classes (never unpickling), and validates every weight's name and shape.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np
from safetensors.numpy import load as safetensors_load
from safetensors.numpy import save as safetensors_save

from ..files import atomic_write

FORMAT_VERSION = 1
CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.weights.safetensors"
OPTIMIZER_NAME = "optimizer.safetensors"


def _weights_bytes(model) -> bytes:
    tensors = {f"{i:04d}:{w.name}": np.require(w.numpy(), requirements="C") for i, w in enumerate(model.weights)}
    return safetensors_save(tensors)


def class_name(layer) -> str:
    """The name a config stores: 'Sequential', 'Functional', a registered name, or the class name."""
    from .sequential import Sequential

    if isinstance(layer, Sequential):
        return "Sequential"
    if getattr(layer, "_graph", None) is not None:
        return "Functional"
    return getattr(type(layer), "_registered_name", type(layer).__name__)


def layer_entry(layer) -> dict:
    return {"class_name": class_name(layer), "config": layer.get_config()}


def _model_config(model):
    kind = class_name(model)
    if kind not in ("Sequential", "Functional") and not hasattr(type(model), "_registered_name"):
        raise ValueError(f"Model '{model.name}': a subclassed model can be saved only when its class is "
                         f"registered with @dc.saving.register_keras_serializable() and implements "
                         f"get_config(); otherwise use model.save_weights(path) and rebuild it in code")
    return {"format_version": FORMAT_VERSION, "class_name": kind, "config": model.get_config(),
            "compile_config": getattr(model, "_compile_config", None)}


def to_json(model) -> str:
    return json.dumps(_model_config(model))


def model_from_json(text, custom_objects=None):
    return model_from_config(json.loads(text), custom_objects=custom_objects)


def save_model(model, filepath):
    """Write ``model`` (architecture, weights, compile settings given by name) to ``filepath``."""
    config = json.dumps(_model_config(model), indent=1)
    weights = _weights_bytes(model)
    optimizer = getattr(model, "optimizer", None)
    state = optimizer.get_state() if optimizer is not None and hasattr(optimizer, "get_state") else None

    def write(path):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(CONFIG_NAME, config)
            archive.writestr(WEIGHTS_NAME, weights)
            if state:
                archive.writestr(OPTIMIZER_NAME, safetensors_save({k: np.require(v, requirements="C")
                                                                   for k, v in state.items()}))

    atomic_write(filepath, write)


def save_weights(model, filepath):
    data = _weights_bytes(model)
    atomic_write(filepath, lambda path: open(path, "wb").write(data))


def _layer_from_config(entry, where, custom_objects=None):
    from .. import layers
    from ..saving import get_registered_object

    name, config = entry.get("class_name"), entry.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"{where}: layer {name!r} has no config dict")
    if name in ("Sequential", "Functional"):
        return model_from_config({"format_version": FORMAT_VERSION, "class_name": name, "config": config},
                                 where, custom_objects)
    cls = get_registered_object(name, custom_objects) if isinstance(name, str) else None
    if cls is None and isinstance(name, str) and not name.startswith("_"):
        cls = getattr(layers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, layers.Layer)):
        raise ValueError(f"{where}: unknown layer class {name!r}; register custom classes with "
                         f"@dc.saving.register_keras_serializable() or pass custom_objects")
    return cls.from_config(config)


def model_from_config(document, where="model config", custom_objects=None):
    from ..layers.node import replay_call
    from .model import Model
    from .sequential import Sequential

    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{where}: unsupported format_version {version!r} (this deepcore reads {FORMAT_VERSION})")
    kind, config = document.get("class_name"), document.get("config", {})
    entry = lambda e: _layer_from_config(e, where, custom_objects)
    if kind not in ("Sequential", "Functional"):
        return entry({"class_name": kind, "config": config})  # a registered subclassed model
    if kind == "Sequential":
        model = Sequential([entry(e) for e in config["layers"]], name=config["name"])
        if config.get("input_shape"):
            model.build(tuple(config["input_shape"]))
        return model
    if kind == "Functional":
        layer_objects = [entry(e) for e in config["layers"]]
        tensors = []
        for node in config["nodes"]:
            layer = layer_objects[node["layer"]]
            parents = [tensors[i] for i in node["inputs"]]
            tensors.append(layer.output if not parents else replay_call(layer, parents, node.get("call")))
        inputs = [tensors[i] for i in config["inputs"]]
        outputs = [tensors[i] for i in config["outputs"]]
        return Model(inputs[0] if config["single_input"] else inputs,
                     outputs[0] if config["single_output"] else outputs, name=config["name"])


def _assign_weights(model, tensors, where):
    weights = model.weights
    if len(tensors) != len(weights):
        raise ValueError(f"{where}: the file holds {len(tensors)} weights, the model has {len(weights)}")
    for i, variable in enumerate(weights):
        key = f"{i:04d}:{variable.name}"
        matches = [k for k in tensors if k.startswith(f"{i:04d}:")]
        if not matches:
            raise ValueError(f"{where}: weight {key} is missing from the file")
        value = tensors[matches[0]]
        if tuple(value.shape) != variable.shape:
            raise ValueError(f"{where}: weight {key} has shape {tuple(value.shape)} in the file, "
                             f"the model expects {variable.shape}")
        variable.assign(value)


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved by ``model.save`` (validating everything, never unpickling)."""
    where = f"load_model({os.fspath(filepath)!r})"
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"{where}: no such file")
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"{where}: not a deepcore model file (expected a zip archive)")
    try:
        archive = zipfile.ZipFile(filepath)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{where}: damaged model file ({error})") from None
    with archive:
        names = set(archive.namelist())
        if not {CONFIG_NAME, WEIGHTS_NAME} <= names:
            raise ValueError(f"{where}: missing {sorted({CONFIG_NAME, WEIGHTS_NAME} - names)}")
        try:
            document = json.loads(archive.read(CONFIG_NAME))
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: {CONFIG_NAME} is not valid JSON ({error})") from None
        tensors = _read_safetensors(archive.read(WEIGHTS_NAME), where)
        optimizer_state = _read_safetensors(archive.read(OPTIMIZER_NAME), where) if OPTIMIZER_NAME in names else None
    if not isinstance(document, dict):
        raise ValueError(f"{where}: {CONFIG_NAME} must hold a JSON object")
    try:
        model = model_from_config(document, where, custom_objects)
    except (KeyError, TypeError) as error:
        raise ValueError(f"{where}: malformed model config ({type(error).__name__}: {error})") from None
    _assign_weights(model, tensors, where)
    compile_config = document.get("compile_config")
    if compile and compile_config and compile_config.get("loss") and compile_config.get("optimizer"):
        model.compile(optimizer=compile_config["optimizer"], loss=compile_config["loss"],
                      loss_weights=compile_config.get("loss_weights"), metrics=compile_config.get("metrics"))
        if optimizer_state and hasattr(model.optimizer, "set_state"):
            model.optimizer.set_state(optimizer_state, model.trainable_weights)
    return model


def _read_safetensors(data, where):
    try:
        return safetensors_load(data)
    except Exception as error:  # safetensors raises its own error types on truncated/tampered data
        raise ValueError(f"{where}: corrupt weights ({type(error).__name__}: {error})") from None


def load_weights(model, filepath):
    where = f"load_weights({os.fspath(filepath)!r})"
    with open(filepath, "rb") as handle:
        tensors = _read_safetensors(handle.read(), where)
    _assign_weights(model, tensors, where)
