"""Saving and loading: a zip holding ``config.json`` and ``model.weights.safetensors``.

Writes go to a temporary file in the target's folder, renamed into place
(atomic: a crash never leaves half a model). Loading checks the format
version, rebuilds the model from its config through a registry of layer
classes (never unpickling), and validates every weight's name and shape.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np
from safetensors.numpy import load as safetensors_load
from safetensors.numpy import save as safetensors_save

FORMAT_VERSION = 1
CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.weights.safetensors"


def _atomic_write(path, write):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _weights_bytes(model) -> bytes:
    tensors = {f"{i:04d}:{w.name}": np.ascontiguousarray(w.numpy()) for i, w in enumerate(model.weights)}
    return safetensors_save(tensors)


def _model_config(model):
    from .sequential import Sequential

    kind = "Sequential" if isinstance(model, Sequential) else "Functional" if model._graph is not None else None
    if kind is None:
        raise ValueError(f"Model '{model.name}': a subclassed model has no config to save; "
                         f"use model.save_weights(path) and rebuild it in code")
    return {"format_version": FORMAT_VERSION, "class_name": kind, "config": model.get_config(),
            "compile_config": getattr(model, "_compile_config", None)}


def save_model(model, filepath):
    """Write ``model`` (architecture, weights, compile settings given by name) to ``filepath``."""
    config = json.dumps(_model_config(model), indent=1)
    weights = _weights_bytes(model)

    def write(path):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(CONFIG_NAME, config)
            archive.writestr(WEIGHTS_NAME, weights)

    _atomic_write(filepath, write)


def save_weights(model, filepath):
    data = _weights_bytes(model)
    _atomic_write(filepath, lambda path: open(path, "wb").write(data))


def _layer_from_config(entry, where):
    from .. import layers

    name = entry.get("class_name")
    cls = getattr(layers, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, layers.Layer)):
        raise ValueError(f"{where}: unknown layer class {name!r}")
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"{where}: layer {name!r} has no config dict")
    return cls.from_config(config)


def model_from_config(document, where="model config"):
    from .model import Model
    from .sequential import Sequential

    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{where}: unsupported format_version {version!r} (this deepcore reads {FORMAT_VERSION})")
    kind, config = document.get("class_name"), document.get("config", {})
    if kind == "Sequential":
        model = Sequential([_layer_from_config(e, where) for e in config["layers"]], name=config["name"])
        if config.get("input_shape"):
            model.build(tuple(config["input_shape"]))
        return model
    if kind == "Functional":
        layer_objects = [_layer_from_config(e, where) for e in config["layers"]]
        tensors = []
        for node in config["nodes"]:
            layer = layer_objects[node["layer"]]
            parents = [tensors[i] for i in node["inputs"]]
            tensors.append(layer.output if not parents else layer(parents if len(parents) > 1 else parents[0]))
        inputs = [tensors[i] for i in config["inputs"]]
        outputs = [tensors[i] for i in config["outputs"]]
        return Model(inputs[0] if config["single_input"] else inputs,
                     outputs[0] if config["single_output"] else outputs, name=config["name"])
    raise ValueError(f"{where}: unknown model class {kind!r}")


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


def load_model(filepath, compile=True):
    """Rebuild a model saved by ``model.save`` (validating everything, never unpickling)."""
    where = f"load_model({os.fspath(filepath)!r})"
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"{where}: not a deepcore model file (expected a zip archive)")
    with zipfile.ZipFile(filepath) as archive:
        names = set(archive.namelist())
        if not {CONFIG_NAME, WEIGHTS_NAME} <= names:
            raise ValueError(f"{where}: missing {sorted({CONFIG_NAME, WEIGHTS_NAME} - names)}")
        try:
            document = json.loads(archive.read(CONFIG_NAME))
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: {CONFIG_NAME} is not valid JSON ({error})") from None
        tensors = safetensors_load(archive.read(WEIGHTS_NAME))
    model = model_from_config(document, where)
    _assign_weights(model, tensors, where)
    compile_config = document.get("compile_config")
    if compile and compile_config and compile_config.get("loss") and compile_config.get("optimizer"):
        model.compile(optimizer=compile_config["optimizer"], loss=compile_config["loss"],
                      loss_weights=compile_config.get("loss_weights"), metrics=compile_config.get("metrics"))
    return model


def load_weights(model, filepath):
    with open(filepath, "rb") as handle:
        tensors = safetensors_load(handle.read())
    _assign_weights(model, tensors, f"load_weights({os.fspath(filepath)!r})")
