"""What ``fit``/``evaluate``/``predict`` accept, turned into batches of host arrays.

- arrays (NumPy, or lists/dicts of them for several inputs or outputs), sliced
  into batches, shuffled per epoch;
- a ``dc.utils.PyDataset``/``Sequence``: ``len(ds)`` batches, ``ds[i]`` -> (x, y[, w]);
- a Python generator or iterator yielding (x, y[, w]) batches.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import unwrap
from ..backend import random
from ..backend.device import to_device


def map_structure(fn, data):
    """Apply ``fn`` to every array in a nested list/tuple/dict (None stays None)."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {k: map_structure(fn, v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [map_structure(fn, v) for v in data]
    return fn(data)


def flatten_structure(data):
    if data is None:
        return []
    if isinstance(data, dict):
        return [a for v in data.values() for a in flatten_structure(v)]
    if isinstance(data, (list, tuple)):
        return [a for v in data for a in flatten_structure(v)]
    return [data]


def to_host(data):
    def convert(array):
        array = np.asarray(to_device(unwrap(array), "cpu"))
        return array.astype(np.float32) if array.dtype == np.float64 else array
    return map_structure(convert, data)


def is_dataset(x) -> bool:
    """A generator/iterator or an indexable batch source (PyDataset), as opposed to array data."""
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict)) or hasattr(x, "shape"):
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__") or \
        (hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def split_batch(batch, who):
    """(x, y) or (x, y, sample_weight) from a dataset element; a bare x means no targets."""
    if isinstance(batch, tuple) and len(batch) in (2, 3):
        return batch if len(batch) == 3 else (batch[0], batch[1], None)
    if isinstance(batch, tuple):
        raise ValueError(f"{who}: a dataset element must be x, (x, y) or (x, y, sample_weight), "
                         f"got a tuple of {len(batch)}")
    return batch, None, None


class ArrayBatches:
    """Batches sliced from arrays held in host memory."""

    def __init__(self, x, y, sample_weight, batch_size, shuffle):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle = batch_size, shuffle
        self.num_samples = len(flatten_structure(x)[0])
        self.steps = math.ceil(self.num_samples / batch_size)

    def epoch(self, steps=None):
        n = self.num_samples
        order = random.generator().permutation(n) if self.shuffle else None
        for step in range(self.steps if steps is None else steps):
            start = (step * self.batch_size) % n
            index = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
            take = lambda a: np.ascontiguousarray(a[index])
            yield map_structure(take, self.x), map_structure(take, self.y), map_structure(take, self.sample_weight)


class DatasetBatches:
    """Batches from a PyDataset/Sequence (indexable) or a generator (iterated)."""

    def __init__(self, data, who, shuffle=False):
        # a source that shuffles its own samples (dc.data.Pipeline) is read in order, so it can prefetch
        self.data, self.who = data, who
        self.shuffle = shuffle and not getattr(data, "shuffles_itself", False)
        self.indexable = hasattr(data, "__getitem__") and hasattr(data, "__len__")
        self.steps = len(data) if self.indexable else None
        self._iterator = None if self.indexable else iter(data)

    def epoch(self, steps=None):
        if self.indexable:
            count = self.steps if steps is None else steps
            order = random.generator().permutation(self.steps) if self.shuffle else np.arange(self.steps)
            for step in range(count):
                yield split_batch(self.data[int(order[step % self.steps])], self.who)
            if hasattr(self.data, "on_epoch_end"):
                self.data.on_epoch_end()
            return
        step = 0
        while steps is None or step < steps:
            try:
                batch = next(self._iterator)
            except StopIteration:
                if steps is not None:
                    raise ValueError(f"{self.who}: the generator ran out after {step} batches, "
                                     f"but steps_per_epoch is {steps}") from None
                return
            yield split_batch(batch, self.who)
            step += 1
