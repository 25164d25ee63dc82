"""Sequential: a plain stack of layers, each taking the previous one's output.

``call`` runs an execution plan built once per change of the stack: a
BatchNormalization directly followed by a plain ReLU runs as one fused
BatchNorm+ReLU (``layers.normalization.fuses_relu``) and the ReLU layer is
skipped; every output and gradient is the same, with fewer passes over memory.
"""
from __future__ import annotations

from ..layers.base import KerasTensor, Layer
from ..layers.core import InputLayer
from ..layers.normalization import fuses_relu
from .model import Model
from .saving import layer_entry


class Sequential(Model):
    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._layers: list[Layer] = []
        self._input_shape = None
        self._output_shapes = {}
        self._plan = None
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
        self._plan = None
        self.built = False
        if self._input_shape is not None:
            self.build(self._input_shape)

    def pop(self):
        layer = self._layers.pop()
        self._plan = None
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

    def _execution_plan(self):
        """[(layer, fused_relu)] as ``call`` runs them: a BatchNormalization with ``fused_relu=True`` stands for
        itself and the ReLU after it."""
        if self._plan is None:
            plan, layers, i = [], self._layers, 0
            while i < len(layers):
                fused = i + 1 < len(layers) and fuses_relu(layers[i], layers[i + 1])
                plan.append((layers[i], fused))
                i += 2 if fused else 1
            self._plan = plan
        return self._plan

    def call(self, inputs, training=None):
        for layer, fused_relu in self._execution_plan():
            if fused_relu:
                inputs = layer(inputs, training=training, fused_relu=True)
            else:
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
