"""Pipeline: arrays in, shuffled and augmented batches out, made ahead on a background thread."""
from __future__ import annotations

import math
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..backend import random
from ..utils import PyDataset


class Pipeline(PyDataset):
    """Batches of ``(x, y)`` (or ``x`` when ``y`` is None) from arrays, as a ``dc.utils.PyDataset``:
    ``len(pipeline)`` batches per epoch, ``pipeline[i]`` is batch i, ``model.fit(pipeline)`` trains on it.

    - ``shuffle``: a new order of the samples every epoch (``on_epoch_end``, which ``fit`` calls,
      starts the next epoch; iterating over the pipeline yields one epoch and does the same).
    - ``transforms``: applied to each batch of ``x`` in order; a ``deepcore.data`` transform or any
      callable ``(images, rng) -> images``, ``rng`` being a NumPy Generator.
    - ``prefetch``: while batch i is in use, batches i+1 .. i+prefetch are made on one background
      thread (NumPy releases the GIL, so this overlaps with training). Exceptions raised there
      reach the caller of ``pipeline[i]``. 0 makes every batch on demand.
    - ``seed``: batch i of epoch e is drawn from a generator seeded with (seed, e, i), so batches
      are the same whichever thread makes them and in whatever order they are asked for. The
      default seed is drawn from deepcore's generator: ``dc.utils.set_random_seed`` fixes it.

    The lookahead assumes batches are asked for in order; ``shuffles_itself`` tells ``fit`` not
    to shuffle the batch order on top of the pipeline's own sample shuffling.
    """

    shuffles_itself = True

    def __init__(self, x, y=None, batch_size=32, shuffle=True, transforms=(), prefetch=2,
                 drop_remainder=False, seed=None):
        super().__init__()
        if not hasattr(x, "shape") or not hasattr(x, "__getitem__") or len(x.shape) == 0:
            raise TypeError(f"Pipeline: x must be an array with a sample axis, got {type(x).__name__}")
        if y is not None and len(y) != len(x):
            raise ValueError(f"Pipeline: x has {len(x)} samples but y has {len(y)}")
        for argument, value, minimum in (("batch_size", batch_size, 1), ("prefetch", prefetch, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise ValueError(f"Pipeline: {argument} must be an int >= {minimum}, got {value!r}")
        self.transforms = list(transforms)
        for transform in self.transforms:
            if not callable(transform):
                raise TypeError(f"Pipeline: each transform must be callable as transform(images, rng), "
                                f"got {transform!r}")
        self.x, self.y = x, y
        self.batch_size, self.shuffle, self.prefetch = int(batch_size), shuffle, int(prefetch)
        self.drop_remainder = drop_remainder
        self.seed = int(random.generator().integers(2**63)) if seed is None else int(seed)
        count = len(x) // self.batch_size if drop_remainder else math.ceil(len(x) / self.batch_size)
        if count == 0:
            raise ValueError(f"Pipeline: {len(x)} samples make no batch of {self.batch_size} "
                             f"(drop_remainder={drop_remainder})")
        self.num_batches = count
        self.epoch = 0
        self._order = self._epoch_order(0)
        self._pending = {}  # batch index -> Future, for the current epoch
        self._previous_index = -1
        self._warned_out_of_order = False
        self._executor = None
        self._lock = threading.Lock()

    def __len__(self):
        return self.num_batches

    def __getitem__(self, index):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Pipeline: batch index must be an int, got {type(index).__name__}")
        if not -self.num_batches <= index < self.num_batches:
            raise IndexError(f"Pipeline: batch {index} out of range for {self.num_batches} batches")
        index = int(index) % self.num_batches
        with self._lock:
            future = self._pending.pop(index, None)
            in_order = future is not None or index == self._previous_index + 1
            self._previous_index = index
            if self.prefetch:
                if in_order:
                    self._schedule(range(index + 1, min(index + 1 + self.prefetch, self.num_batches)))
                else:
                    self._warn_out_of_order()
            epoch, order = self.epoch, self._order
        return future.result() if future is not None else self._make_batch(epoch, index, order)

    def __iter__(self):
        """One epoch of batches, then ``on_epoch_end``."""
        for index in range(self.num_batches):
            yield self[index]
        self.on_epoch_end()

    def on_epoch_end(self):
        with self._lock:
            for future in self._pending.values():
                future.cancel()
            self._pending.clear()
            self.epoch += 1
            self._order = self._epoch_order(self.epoch)
            self._previous_index = -1

    def _make_batch(self, epoch, index, order):
        """Batch ``index`` of ``epoch``, ``order`` being that epoch's sample order (None: as stored)."""
        start = index * self.batch_size
        rows = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
        x = np.asarray(self.x[rows])
        if self.transforms:
            rng = np.random.default_rng([self.seed, epoch, index])
            for transform in self.transforms:
                x = transform(x, rng)
        return x if self.y is None else (x, np.asarray(self.y[rows]))

    def close(self):
        """Stop the background thread (after the batch it is making); the pipeline still works, on demand."""
        with self._lock:
            for future in self._pending.values():
                future.cancel()
            self._pending.clear()
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _epoch_order(self, epoch):
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.x)) if self.shuffle else None

    def _schedule(self, indices):
        """Keep futures for exactly ``indices`` (called with the lock held)."""
        wanted = set(indices)
        for index in [index for index in self._pending if index not in wanted]:
            self._pending.pop(index).cancel()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deepcore-prefetch")
        for index in indices:
            if index not in self._pending:
                self._pending[index] = self._executor.submit(self._make_batch, self.epoch, index, self._order)

    def _warn_out_of_order(self):
        if not self._warned_out_of_order:
            self._warned_out_of_order = True
            warnings.warn("Pipeline: batches are being asked for out of order, so they are made on demand "
                          "instead of ahead on the background thread (fit reads them in order).", stacklevel=3)
