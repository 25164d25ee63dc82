"""``model.summary()``: Keras' table of layers, output shapes and parameter counts."""
from __future__ import annotations

from ..layers.core import InputLayer


def format_shape(shape):
    if isinstance(shape, list):
        return ", ".join(format_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def layer_rows(model):
    """(name (Type), output shape, params) per layer; shapes come from the recorded build."""
    rows = []
    shapes = dict(getattr(model, "_output_shapes", {}))
    for tensor in model._graph or []:  # functional: the shape of each layer's (first) call
        shapes.setdefault(id(tensor.layer), tensor.shape)
    for layer in model.layers:
        if isinstance(layer, InputLayer) and model._graph is None:
            continue
        shape = shapes.get(id(layer))
        if shape is None and isinstance(layer, InputLayer):
            shape = layer.output.shape
        rows.append((f"{layer.name} ({type(layer).__name__})", "?" if shape is None else format_shape(shape),
                     f"{layer.count_params():,}"))
    return rows


def print_summary(model, print_fn=print):
    rows = layer_rows(model)
    headers = ("Layer (type)", "Output Shape", "Param #")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) + 2 for i, h in enumerate(headers)]
    line = lambda cells: "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    total = model.count_params()
    trainable = int(sum(w.size for w in model.trainable_weights))
    print_fn(f'Model: "{model.name}"')
    print_fn("=" * sum(widths))
    print_fn(line(headers))
    print_fn("=" * sum(widths))
    for row in rows:
        print_fn(line(row))
    print_fn("=" * sum(widths))
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
