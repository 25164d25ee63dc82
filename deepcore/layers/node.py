"""The functional API's graph nodes: a KerasTensor is a shape plus the layer call that made it.

A call is recorded as a template of its arguments in which every symbolic tensor is replaced by
``{"__keras_tensor__": i}`` (its index among the node's parents); ``replay`` substitutes real
tensors and calls the layer again. A plain ``layer(x)`` or ``layer([a, b])`` needs no template.
The template is JSON as long as the call's other arguments are (flags, numbers, names).
"""
from __future__ import annotations

import inspect

import numpy as np

from ..autograd.tensor import Tensor

SLOT = "__keras_tensor__"


class KerasTensor:
    """A symbolic tensor of the functional API: a shape (batch axis None) and the layer call that made it."""

    def __init__(self, shape, layer=None, inputs=(), dtype="float32", call=None):
        self.shape = tuple(shape)
        self.layer, self.inputs, self.dtype = layer, tuple(inputs), dtype
        self.call = call  # {"args": [...], "kwargs": {...}} with slots, or None for layer(parents)

    ndim = property(lambda self: len(self.shape))

    def __repr__(self):
        source = f", from {self.layer.name}" if self.layer is not None else ""
        return f"<KerasTensor shape={self.shape}{source}>"

    def replay(self, values, training=None, **options):
        """Call this node's layer on ``values`` (the parents' real tensors, in order), with ``options`` added."""
        return replay_call(self.layer, values, self.call, training, **options)

    def call_config(self):
        return {} if self.call is None else {"call": self.call}


def is_symbolic(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(is_symbolic(v) for v in value)
    if isinstance(value, dict):
        return any(is_symbolic(v) for v in value.values())
    return isinstance(value, KerasTensor)


def record_call(args, kwargs):
    """(parents, template): the symbolic tensors in a call, and the call with slots in their place.

    The template is None for the plain forms ``layer(x)`` and ``layer([a, b, ...])``.
    """
    parents = []

    def slot(value):
        if isinstance(value, KerasTensor):
            parents.append(value)
            return {SLOT: len(parents) - 1}
        if isinstance(value, (list, tuple)):
            return [slot(v) for v in value]
        return value

    template = {"args": [slot(a) for a in args], "kwargs": {k: slot(v) for k, v in kwargs.items()}}
    first = args[0] if args else None
    plain = len(args) == 1 and not kwargs and (isinstance(first, KerasTensor) or (
        isinstance(first, (list, tuple)) and all(isinstance(v, KerasTensor) for v in first)))
    return parents, (None if plain else template)


def fill(template_value, values):
    if isinstance(template_value, dict) and set(template_value) == {SLOT}:
        return values[template_value[SLOT]]
    if isinstance(template_value, list):
        return [fill(v, values) for v in template_value]
    return template_value


def replay_call(layer, values, call, training=None, **options):
    """``layer`` called as recorded, with ``values`` in the parents' places and ``options`` added."""
    if call is None:
        first = list(values) if len(values) > 1 else values[0]
        return layer(first, **options) if training is None else layer(first, training=training, **options)
    args = [fill(a, values) for a in call["args"]]
    kwargs = {**{k: fill(v, values) for k, v in call["kwargs"].items()}, **options}
    if training is not None:
        kwargs.setdefault("training", training)
    return layer(*args, **kwargs)


def symbolic_call(layer, args, kwargs, select_output):
    """A layer called on symbolic tensors: check and build from their shapes, infer the output shape(s)
    (``compute_output_shape``, or a run on zeros), and return KerasTensor(s) recording the call.
    Several outputs become ``select_output(i)`` nodes on one node for the call."""
    first = args[0]
    kwargs = {k: v for k, v in kwargs.items() if not (k == "training" and v is None)}
    if not isinstance(first, (list, tuple)):
        layer.check_input_shape(first.shape)
    tensor_arguments = layer._tensor_arguments(args, kwargs)
    layer._build_for_call(tensor_arguments)
    parents, template = record_call(args, kwargs)
    # compute_output_shape sees shapes only: a call with option flags (return_attention_scores=True, ...) runs
    flags = any(k != "training" and v is not None and v is not False and not is_symbolic(v) for k, v in kwargs.items())
    if template is None and len(tensor_arguments) == 1:
        output_shape = layer.compute_output_shape(shape_of(first))
    elif not flags and not getattr(type(layer).compute_output_shape, "is_default", False):
        output_shape = layer.compute_output_shape(*[shape_of(a) for a in args if isinstance(a, (KerasTensor, list,
                                                                                                 tuple))])
    else:
        fill = lambda v, unknown: zeros(shape_of(v), unknown) if is_symbolic(v) else v  # noqa: E731
        output_shape = infer_output_shapes(layer, lambda unknown: (
            [fill(a, unknown) for a in args], {k: fill(v, unknown) for k, v in kwargs.items()}))
    layer._clear_losses()  # the shape inference's add_loss values are not real losses
    if is_shape(output_shape):
        return KerasTensor(output_shape, layer=layer, inputs=parents, call=template)
    node = KerasTensor((), layer=layer, inputs=parents, call=template)
    outputs = [KerasTensor(shape, layer=select_output(i, name=f"{layer.name}_output_{i}"), inputs=[node])
               for i, shape in enumerate(output_shape)]
    return tuple(outputs) if isinstance(output_shape, tuple) else outputs


def shape_of(value):
    if isinstance(value, (list, tuple)):
        return [shape_of(v) for v in value]
    return tuple(value.shape)


def is_shape(shape) -> bool:
    return isinstance(shape, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in shape)


def zeros(shape, unknown):
    """Zeros of ``shape`` (a list of shapes gives a list) with each unknown dimension set to ``unknown``."""
    from ..backend.device import get_device
    if isinstance(shape, list) and not is_shape(shape):
        return [zeros(s, unknown) for s in shape]
    return Tensor(get_device().xp.zeros(tuple(unknown if d is None else d for d in shape), "float32"))


def infer_output_shapes(layer, make_arguments):
    """Output shape(s) of ``layer.call(*args, **kwargs)`` from two runs on zeros (unknown dims as 1, then 2):
    the batch axis and every dimension that differs between the runs become None."""
    from ..autograd.function import no_grad

    def run(unknown):
        args, kwargs = make_arguments(unknown)
        takes_training = "training" in inspect.signature(type(layer).call).parameters
        kwargs = {**kwargs, "training": kwargs.get("training", False)} if takes_training else \
            {k: v for k, v in kwargs.items() if k != "training"}
        with no_grad():
            return shapes_of(layer.call(*args, **kwargs))

    def merge(a, b):
        if is_shape(a):
            return (None,) + tuple(x if x == y else None for x, y in zip(a[1:], b[1:]))
        merged = [merge(x, y) for x, y in zip(a, b)]
        return tuple(merged) if isinstance(a, tuple) else merged

    return merge(run(1), run(2))


def shapes_of(output):
    if isinstance(output, (list, tuple)):
        shapes = [shapes_of(o) for o in output]
        return tuple(shapes) if isinstance(output, tuple) else shapes
    return tuple(output.shape)
