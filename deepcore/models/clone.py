"""``clone_model``: the same architecture with new layers (fresh weights), as Keras 3.

Sequential and functional models are rebuilt layer by layer: each layer is cloned once by
``clone_function`` (default ``type(layer).from_config(layer.get_config())``), so shared layers stay
shared, and each recorded call is replayed on the new layers (through ``call_function`` when given).
A subclassed model is rebuilt from its config. Weights are not copied (``set_weights`` does that)
and the clone is not compiled.
"""
from __future__ import annotations

from ..layers.base import SelectOutput
from ..layers.core import Input, InputLayer
from ..layers.node import KerasTensor, fill, replay_call
from .model import Model
from .sequential import Sequential


def clone_layer(layer):
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A new model with the architecture of ``model`` and newly initialized weights.

    ``input_tensors``: symbolic inputs (from ``dc.Input``) to build the clone on; ``clone_function(layer)``
    returns the layer to use instead of each layer; ``call_function(layer, *args, **kwargs)`` makes each call
    of a functional graph; ``recursive`` clones nested Sequential/functional models layer by layer too.
    """
    if kwargs:
        raise TypeError(f"clone_model: unexpected keyword argument(s) {sorted(kwargs)}")
    if not isinstance(model, Model):
        raise ValueError(f"clone_model: expected a Model, got {type(model).__name__}")
    user_function = clone_function or clone_layer

    def clone(layer):
        if recursive and isinstance(layer, Model) and (isinstance(layer, Sequential) or layer._graph is not None):
            return clone_model(layer, clone_function=clone_function, call_function=call_function, recursive=True)
        if clone_function is None and isinstance(layer, Model):
            return clone_model(layer)  # a nested model cannot rebuild itself from its config alone
        return user_function(layer)

    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone)
    if model._graph is not None:
        return _clone_functional(model, input_tensors, clone, call_function)
    if clone_function is not None or input_tensors is not None:
        raise ValueError(f"clone_model: clone_function and input_tensors apply to Sequential and functional models "
                         f"only; '{model.name}' is a subclassed {type(model).__name__}")
    try:
        return type(model).from_config(model.get_config())
    except TypeError as error:
        raise ValueError(f"clone_model: the subclassed model {type(model).__name__} cannot be rebuilt from its "
                         f"config ({error}); implement get_config() returning its constructor arguments") from None


def _symbolic_inputs(input_tensors, count, where):
    tensors = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
    if len(tensors) != count or not all(isinstance(t, KerasTensor) for t in tensors):
        raise ValueError(f"clone_model: {where} takes {count} input tensor(s) from dc.Input, got {input_tensors!r}")
    return list(tensors)


def _clone_sequential(model, input_tensors, clone):
    layers = [clone(layer) for layer in model.layers]
    if input_tensors is not None:
        (first,) = _symbolic_inputs(input_tensors, 1, f"Sequential '{model.name}'")
        head = [first]
    elif model._input_shape is not None:
        head = [Input(shape=tuple(model._input_shape[1:]))]
    else:
        head = []
    return Sequential(head + layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, input_tensors, clone, call_function):
    if input_tensors is not None:
        inputs = _symbolic_inputs(input_tensors, len(model.inputs), f"model '{model.name}'")
    else:
        inputs = [Input(shape=t.shape[1:], batch_size=t.shape[0], dtype=t.layer.dtype, name=t.layer.name)
                  for t in model.inputs]
    new = {id(old): fresh for old, fresh in zip(model.inputs, inputs)}
    clones = {}
    for tensor in model._graph:
        if id(tensor) in new or isinstance(tensor.layer, InputLayer):
            continue
        parents = [new[id(p)] for p in tensor.inputs]
        if isinstance(tensor.layer, SelectOutput) and isinstance(parents[0], (list, tuple)):
            new[id(tensor)] = parents[0][tensor.layer.index]  # the replayed call already split its outputs
            continue
        layer = clones.get(id(tensor.layer))
        if layer is None:
            layer = clones[id(tensor.layer)] = clone(tensor.layer)
        new[id(tensor)] = _call(layer, parents, tensor.call, call_function)
    outputs = [new[id(t)] for t in model.outputs]
    return Model(inputs[0] if model._single_input else inputs, outputs[0] if model._single_output else outputs,
                 name=model.name)


def _call(layer, parents, call, call_function):
    if call_function is None:
        return replay_call(layer, parents, call)
    if call is None:
        return call_function(layer, parents if len(parents) > 1 else parents[0])
    return call_function(layer, *[fill(a, parents) for a in call["args"]],
                         **{k: fill(v, parents) for k, v in call["kwargs"].items()})
