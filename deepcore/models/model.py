"""Model: a Layer that can be compiled and trained. Three ways to make one, as Keras:

- functional: ``Model(inputs, outputs)`` over symbolic tensors from ``Input``;
- subclassing: define layers in ``__init__`` and the math in ``call``;
- ``Sequential`` (sequential.py), a stack of layers.

A functional model runs its graph through an execution plan made once in
``_init_graph``: the nodes in topological order, where a BatchNormalization
node read only by a plain ReLU node (and not itself a model output) runs as one
fused BatchNorm+ReLU in the ReLU's place (``layers.normalization.fuses_relu``).
"""
from __future__ import annotations

from .. import optimizers
from ..distribute.context import LOCAL, current as current_strategy
from ..layers.base import KerasTensor, Layer, _unique, unique_name
from ..layers.core import InputLayer
from ..layers.normalization import fuses_relu
from .compile_utils import CompiledObjectives
from .saving import layer_entry
from .summary import print_summary
from .training import TrainingMixin


class Model(TrainingMixin, Layer):
    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if name is None and type(self) is Model and inputs is not None:
            name = unique_name("functional")  # Keras 3's name for functional models
        super().__init__(name=name, **kwargs)
        self.optimizer = None
        self.loss = None
        self._objectives = None
        self.compiled_metrics = []
        self.stop_training = False
        self._graph = None
        self._plan = []
        self._distribute = current_strategy(LOCAL)  # the training loop's hooks (deepcore.distribute)
        if inputs is not None or outputs is not None:
            self._init_graph(inputs, outputs)

    # --- functional graph -------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs = [inputs] if self._single_input else list(inputs)
        self.outputs = [outputs] if self._single_output else list(outputs)
        for tensor in self.inputs + self.outputs:
            if not isinstance(tensor, KerasTensor):
                raise TypeError(f"Model '{self.name}': inputs and outputs must be symbolic tensors from "
                                f"keras.Input and layer calls, got {type(tensor).__name__}")
        for tensor in self.inputs:
            if not isinstance(tensor.layer, InputLayer):
                raise ValueError(f"Model '{self.name}': every input must come from keras.Input, got {tensor}")
        self._graph = _topological_nodes(self.outputs)
        self._plan = _execution_plan(self._graph, self.outputs)
        reachable_inputs = {id(t) for t in self._graph if isinstance(t.layer, InputLayer)}
        for tensor in self.inputs:
            if id(tensor) not in reachable_inputs:
                raise ValueError(f"Model '{self.name}': input {tensor} is not connected to the outputs")
        missing = [t for t in self._graph if isinstance(t.layer, InputLayer) and
                   all(t is not i for i in self.inputs)]
        if missing:
            raise ValueError(f"Model '{self.name}': the outputs depend on inputs not given to Model(): {missing}")
        self._build_input_shape = [t.shape for t in self.inputs] if len(self.inputs) > 1 else self.inputs[0].shape
        self.built = True

    @property
    def layers(self):
        if self._graph is not None:
            return _unique([tensor.layer for tensor in self._graph])
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"Model '{self.name}': no layer named {name!r}; layers are "
                         f"{[layer.name for layer in self.layers]}")

    def _sublayers(self):
        if self._graph is not None:
            return [layer for layer in self.layers if not isinstance(layer, InputLayer)]
        return super()._sublayers()

    def call(self, inputs, training=None):
        if self._graph is None:
            raise NotImplementedError(f"Model '{self.name}': a subclassed model must implement call()")
        given = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
        if len(given) != len(self.inputs):
            raise ValueError(f"Model '{self.name}': expected {len(self.inputs)} input(s), got {len(given)}")
        values = {id(symbol): value for symbol, value in zip(self.inputs, given)}
        for tensor, fused in self._plan:
            if id(tensor) in values:
                continue
            if fused is None:
                values[id(tensor)] = tensor.replay([values[id(parent)] for parent in tensor.inputs], training)
            else:
                values[id(tensor)] = fused.replay([values[id(parent)] for parent in fused.inputs], training,
                                                  fused_relu=True)
        results = [values[id(t)] for t in self.outputs]
        return results[0] if self._single_output else results

    def _check_built_shape(self, shape):
        if self._graph is not None:  # a subclassed model may take any shape its call() accepts
            super()._check_built_shape(shape)

    def compute_output_shape(self, input_shape):
        if self._graph is not None:
            shapes = [t.shape for t in self.outputs]
            return shapes[0] if self._single_output else shapes
        return super().compute_output_shape(input_shape)

    # --- compile / summary ------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, **kwargs):
        """Set the optimizer, the loss(es) and metrics (names or objects; per output as lists or dicts)."""
        if kwargs:
            raise TypeError(f"Model '{self.name}'.compile: unsupported argument(s) {sorted(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        self._distribute = current_strategy(self._distribute)
        self._objectives = CompiledObjectives(self.name, self.output_names, loss, loss_weights, metrics)
        self.loss = loss if isinstance(loss, (list, dict)) else self._objectives.losses[0]
        self.compiled_metrics = [m for _, m in self._objectives.metrics]
        self._compile_config = {"optimizer": optimizers.serialize(self.optimizer),
                                "loss": loss if _is_plain(loss) else None,
                                "loss_weights": loss_weights,
                                "metrics": metrics if _is_plain(metrics) else None}

    @property
    def output_names(self):
        if self._graph is not None:
            return [t.layer.name for t in self.outputs]
        return ["output"]

    @property
    def metrics_names(self):
        objectives = getattr(self, "_objectives", None)
        return [m.name for m in objectives.all_metrics()] if objectives else []

    def summary(self, print_fn=print, line_length=None):
        print_summary(self, print_fn)

    # --- config -----------------------------------------------------------------------
    def get_config(self):
        if self._graph is None:
            return {"name": self.name, "trainable": self.trainable}
        index = {id(layer): i for i, layer in enumerate(self.layers)}
        nodes = []
        for tensor in self._graph:
            nodes.append({"layer": index[id(tensor.layer)],
                          "inputs": [self._graph.index(p) for p in tensor.inputs], **tensor.call_config()})
        return {"name": self.name, "trainable": self.trainable,
                "layers": [layer_entry(layer) for layer in self.layers],
                "nodes": nodes, "inputs": [self._graph.index(t) for t in self.inputs],
                "outputs": [self._graph.index(t) for t in self.outputs],
                "single_input": self._single_input, "single_output": self._single_output}


def _topological_nodes(outputs):
    """Every symbolic tensor the outputs depend on, each after its inputs."""
    order, visited = [], set()

    def visit(tensor):
        if id(tensor) in visited:
            return
        visited.add(id(tensor))
        for parent in tensor.inputs:
            visit(parent)
        order.append(tensor)

    for output in outputs:
        visit(output)
    return order


def _execution_plan(graph, outputs):
    """[(node, fused)] in topological order. ``fused`` is None for a node replayed as recorded, else the
    BatchNormalization or Add node that the ReLU ``node`` runs fused with; that node has no entry of its own.
    Fused: both called plainly (``layer(x)``, ``layer([a, b])``), the ReLU the only reader of the fused node's
    output, and that output not one of the model's (a user who asks for it gets it computed)."""
    readers = {}
    for node in graph:
        for parent in node.inputs:
            readers[id(parent)] = readers.get(id(parent), 0) + 1
    output_ids = {id(t) for t in outputs}
    fused = {}
    for node in graph:
        parent = node.inputs[0] if len(node.inputs) == 1 else None
        if (parent is not None and node.call is None and parent.call is None
                and readers[id(parent)] == 1 and id(parent) not in output_ids and fuses_relu(parent.layer, node.layer)):
            fused[id(node)] = parent
    fused_away = {id(parent) for parent in fused.values()}
    return [(node, fused.get(id(node))) for node in graph if id(node) not in fused_away]


def _is_plain(value):
    """True for JSON-able compile arguments: names, numbers, and lists/dicts of them."""
    if value is None or isinstance(value, (str, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    return False
