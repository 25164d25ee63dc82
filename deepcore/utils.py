"""Helpers as ``keras.utils``: seeding, one-hot labels, padding and normalizing, and training-curve plots."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .backend import random as _random
from .files import atomic_write
from .preprocessing.sequence import pad_sequences  # noqa: F401 - keras.utils.pad_sequences


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness deepcore uses (weights, dropout, shuffling)."""
    _random.set_random_seed(seed)


def to_categorical(x, num_classes=None) -> np.ndarray:
    """One-hot encode integer class labels: shape ``(..., num_classes)``.

    As Keras, a trailing axis of size 1 is dropped first (``(N, 1)`` -> ``(N, C)``)
    and ``num_classes`` defaults to ``max(x) + 1``. Unlike Keras 3 (float64 for
    NumPy input), the result is float32, deepcore's default float type.
    """
    labels = np.asarray(x)
    if labels.dtype.kind not in "iuf" or labels.dtype == np.bool_:
        raise TypeError(f"to_categorical: expected integer class labels, got dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.all(np.mod(labels, 1) == 0):
        raise ValueError("to_categorical: expected integer class labels, got non-integer values "
                         f"such as {labels[np.mod(labels, 1) != 0].flat[0]}")
    labels = labels.astype(np.int64)
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    labels = labels.reshape(-1)
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("to_categorical: cannot infer num_classes from empty labels; pass num_classes")
        num_classes = int(labels.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"to_categorical: expected num_classes a positive int, got {num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: expected labels in [0, {num_classes - 1}], "
                         f"got values in [{labels.min()}, {labels.max()}]")
    one_hot = np.zeros((labels.size, num_classes), dtype=np.float32)
    one_hot[np.arange(labels.size), labels] = 1
    return one_hot.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """x divided by its ``order``-norm along ``axis`` (a zero norm divides by 1), as Keras.

    NumPy in, NumPy out; a Tensor goes through ``dc.ops.normalize`` (differentiable)."""
    from .autograd.tensor import Tensor
    if isinstance(x, Tensor):
        from .ops import normalize as normalize_op
        return normalize_op(x, axis=axis, order=order)
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("normalize: expected an array with at least one axis, got a scalar")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) from a batch given as x, (x,), (x, y) or (x, y, sample_weight), as Keras."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"unpack_x_y_sample_weight: expected x, (x,), (x, y) or (x, y, sample_weight), got a tuple "
                     f"of {len(data)} items")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return (x,) if isinstance(x, tuple) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def plot_history(history, path) -> Path:
    """Write a PNG of the training curves in ``history`` (a History or its ``.history`` dict).

    One panel per quantity (loss first, then metrics such as accuracy), each with
    the training curve and, when present, the ``val_`` curve, per epoch. The file
    is written to a temporary name and renamed into place.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"plot_history: expected a History or a dict of per-epoch lists, "
                        f"got {type(history).__name__}")
    names = [name for name in logs if not name.startswith("val_")]
    names.sort(key=lambda name: name != "loss")
    if not names or not all(len(logs[name]) for name in names):
        raise ValueError(f"plot_history: expected non-empty per-epoch lists such as 'loss', "
                         f"got keys {sorted(logs)}")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install deepcore[plot]") from None

    # Figure + Agg canvas instead of pyplot: no global backend switch, no GUI.
    figure = Figure(figsize=(5 * len(names), 4), layout="tight")
    FigureCanvasAgg(figure)
    for index, name in enumerate(names):
        axes = figure.add_subplot(1, len(names), index + 1)
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if logs.get(key):
                values = [float(value) for value in logs[key]]
                axes.plot(range(1, len(values) + 1), values, marker="o", label=label)
        axes.set(title=name, xlabel="epoch", ylabel=name)
        axes.legend()
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return atomic_write(path, lambda temporary: figure.savefig(temporary, format="png", dpi=100))


class PyDataset:
    """Keras 3's ``PyDataset`` (formerly ``Sequence``): ``len(ds)`` batches, ``ds[i]`` -> ``(x, y[, w])``.

    ``fit`` calls ``on_epoch_end()`` after each epoch. Unlike Keras, workers and
    multiprocessing arguments are accepted and ignored: batches are made in the
    training thread.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ (the number of batches)")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) -> (x, y)")

    def on_epoch_end(self):
        pass


Sequence = PyDataset


def plot_model(model, to_file="model.png", show_shapes=True, show_layer_names=True, dpi=100):
    """Draw the model's layer graph to a PNG with matplotlib (no graphviz needed)."""
    from .models.plot import plot_model as draw
    return draw(model, to_file, show_shapes=show_shapes, show_layer_names=show_layer_names, dpi=dpi)
