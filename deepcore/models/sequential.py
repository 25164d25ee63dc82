"""Sequential: a plain stack of layers, each taking the previous one's output."""
from __future__ import annotations

from ..layers.base import KerasTensor, Layer
from ..layers.core import InputLayer
from .model import Model
from .saving import layer_entry


class Sequential(Model):
    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._layers: list[Layer] = []
        self._input_shape = None
        self._output_shapes = {}
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if isinstance(layer, KerasTensor) and isinstance(layer.layer, InputLayer):
            layer = layer.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential '{self.name}'.add: expected a Layer or keras.Input, got "
                            f"{type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_shape is not None:
                raise ValueError(f"Sequential '{self.name}': an Input must come first")
            self._input_shape = (layer.batch_size,) + layer.shape
            return
        if not self._layers and self._input_shape is None and hasattr(layer, "_declared_input_shape"):
            self._input_shape = (None,) + layer._declared_input_shape
        self._layers.append(layer)
        self.built = False
        if self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self):
        layer = self._layers.pop()
        self.built = False
        return layer

    @property
    def layers(self):
        return list(self._layers)

    def _sublayers(self):
        return list(self._layers)

    def build(self, input_shape=None):
        """Build every layer by passing a symbolic tensor through, recording output shapes."""
        input_shape = tuple(input_shape if input_shape is not None else self._input_shape)
        if self._input_shape is None:
            self._input_shape = (None,) + input_shape[1:]
        tensor = KerasTensor((None,) + tuple(input_shape[1:]))
        for layer in self._layers:
            tensor = layer(tensor)
            self._output_shapes[id(layer)] = tensor.shape
        self._build_input_shape = (None,) + tuple(input_shape[1:])
        self.built = True

    def call(self, inputs, training=None):
        for layer in self._layers:
            inputs = layer(inputs, training=training)
        return inputs

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return (input_shape[0],) + tuple(self._output_shapes[id(self._layers[-1])][1:])

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "input_shape": None if self._input_shape is None else list(self._input_shape),
                "layers": [layer_entry(layer) for layer in self._layers]}
