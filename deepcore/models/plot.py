"""``dc.utils.plot_model``: the layer graph as a PNG, laid out by depth, drawn with matplotlib."""
from __future__ import annotations

from ..files import atomic_write
from ..layers.core import InputLayer
from .summary import format_shape


def _graph(model):
    """(labels, edges, depth) for every node: functional graphs as built, anything else as a chain."""
    if model._graph is not None:
        nodes = model._graph
        index = {id(t): i for i, t in enumerate(nodes)}
        edges = [(index[id(p)], i) for i, t in enumerate(nodes) for p in t.inputs]
        items = [(t.layer, t.shape) for t in nodes]
    else:
        shapes = getattr(model, "_output_shapes", {})
        items = [(layer, shapes.get(id(layer))) for layer in model.layers if not isinstance(layer, InputLayer)]
        edges = [(i, i + 1) for i in range(len(items) - 1)]
    depth = [0] * len(items)
    for source, target in sorted(edges, key=lambda e: e[1]):  # nodes come in topological order
        depth[target] = max(depth[target], depth[source] + 1)
    return items, edges, depth


def plot_model(model, to_file="model.png", show_shapes=True, show_layer_names=True, dpi=100):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plot_model needs matplotlib: pip install deepcore[plot]") from None
    items, edges, depth = _graph(model)
    if not items:
        raise ValueError(f"plot_model: model '{model.name}' has no layers to draw")
    rows = max(depth) + 1
    by_row = {}
    for i, d in enumerate(depth):
        by_row.setdefault(d, []).append(i)
    width = max(len(v) for v in by_row.values())
    position = {}
    for d, members in by_row.items():
        for k, i in enumerate(members):
            position[i] = ((k + 1) / (len(members) + 1) * width, rows - d)

    figure = Figure(figsize=(max(4.0, 3.2 * width), 0.9 * rows + 0.6))
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(0.4, rows + 0.6)
    axes.axis("off")
    for source, target in edges:
        axes.annotate("", xy=position[target], xytext=position[source],
                      arrowprops={"arrowstyle": "->", "color": "0.4", "shrinkA": 14, "shrinkB": 14})
    for i, (layer, shape) in enumerate(items):
        text = type(layer).__name__
        if show_layer_names:
            text = f"{layer.name} ({text})"
        if show_shapes and shape is not None:
            text += "\n" + format_shape(shape)
        axes.text(*position[i], text, ha="center", va="center", fontsize=8,
                  bbox={"boxstyle": "round", "facecolor": "#dde8f5", "edgecolor": "#4a6fa5"})
    return atomic_write(to_file, lambda temporary: figure.savefig(temporary, format="png", dpi=dpi))
