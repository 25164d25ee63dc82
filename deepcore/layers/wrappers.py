"""Wrappers: TimeDistributed (a layer on every time step) and Bidirectional (an RNN both ways)."""
from __future__ import annotations

from ..autograd import arithmetic as A
from ..ops.shape import concatenate
from .base import Layer


def layer_from_config(entry):
    from .. import layers
    cls = getattr(layers, entry["class_name"], None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"unknown layer class {entry['class_name']!r}")
    return cls.from_config(entry["config"])


def layer_config(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


class TimeDistributed(Layer):
    """Applies ``layer`` to every slice x[:, t]: the batch and time axes are folded into one."""

    input_min_ndim = 3
    input_axes = "batch, timesteps, ..."
    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if isinstance(layer, dict):
            layer = layer_from_config(layer)
        if not isinstance(layer, Layer):
            raise ValueError(f"{self.describe()}: expected a Layer to wrap, got {type(layer).__name__}")
        self.layer = layer

    def build(self, input_shape):
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))

    def call(self, inputs, training=None):
        n, t = inputs.shape[:2]
        y = self.layer(A.reshape(inputs, (n * t,) + inputs.shape[2:]), training=training)
        return A.reshape(y, (n, t) + y.shape[1:])

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def get_config(self):
        return {**super().get_config(), "layer": layer_config(self.layer)}


class Bidirectional(Layer):
    """Runs ``layer`` forward and a copy backward in time and merges them ('concat', 'sum', 'mul', 'ave').

    Weights: the forward layer's, then the backward layer's (as Keras). return_state is not supported.
    """

    input_ndim = 3
    input_axes = "batch, timesteps, features"
    MERGES = ("concat", "sum", "mul", "ave")
    supports_masking = True

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        layer = layer_from_config(layer) if isinstance(layer, dict) else layer
        backward_layer = layer_from_config(backward_layer) if isinstance(backward_layer, dict) else backward_layer
        if not hasattr(layer, "go_backwards") or getattr(layer, "return_state", False):
            raise ValueError(f"{self.describe()}: expected a recurrent layer without return_state, got {layer!r}")
        if merge_mode not in self.MERGES:
            raise ValueError(f"{self.describe()}: merge_mode must be one of {self.MERGES}, got {merge_mode!r}")
        self.merge_mode = merge_mode
        self.forward_layer = layer
        if backward_layer is None:
            config = {**layer.get_config(), "name": "backward_" + layer.name, "go_backwards": not layer.go_backwards}
            backward_layer = type(layer).from_config(config)
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences

    def build(self, input_shape):
        self.forward_layer._maybe_build(tuple(input_shape))
        self.backward_layer._maybe_build(tuple(input_shape))

    def call(self, inputs, training=None, mask=None):
        forward = self.forward_layer(inputs, training=training, mask=mask)
        backward = self.backward_layer(inputs, training=training, mask=mask)
        if self.return_sequences:  # the backward layer's sequence runs from the last step: put it in time order
            backward = A.getitem(backward, (slice(None), slice(None, None, -1)))
        if self.merge_mode == "concat":
            return concatenate([forward, backward], axis=-1)
        if self.merge_mode == "sum":
            return A.add(forward, backward)
        if self.merge_mode == "mul":
            return A.mul(forward, backward)
        return A.mul(A.add(forward, backward), 0.5)

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(tuple(input_shape))
        return shape[:-1] + (shape[-1] * 2,) if self.merge_mode == "concat" else shape

    def get_config(self):
        return {**super().get_config(), "layer": layer_config(self.forward_layer), "merge_mode": self.merge_mode,
                "backward_layer": layer_config(self.backward_layer)}
