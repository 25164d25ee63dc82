"""The distributed sampler: every rank walks the same global batches and computes on its own part.

A global batch of n samples is cut into ``size`` consecutive parts whose lengths differ by at most one
(the first ``n % size`` ranks take one more). Shuffled orders are drawn by rank 0 from deepcore's
generator, exactly as one process would draw them, and broadcast, so every rank sees the same order
whatever else each one draws (dropout). Each rank reads only its own rows of array data; a dataset
(``PyDataset``) is read whole on every rank and sliced, and a generator must yield the same batches on
every rank (seed it).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..backend import random


def shard_bounds(n: int, size: int, rank: int) -> tuple[int, int]:
    """[start, stop) of rank ``rank``'s part of ``n`` samples split among ``size`` ranks."""
    base, extra = divmod(n, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


class ShardedBatches:
    """This rank's part of each global batch of ``batches`` (ArrayBatches or DatasetBatches).

    In training, a global batch with fewer samples than ranks is skipped (with a warning); otherwise a rank
    whose part is empty skips that batch. ``share`` is this rank's fraction of the current global batch;
    ``batch_indices`` lists the global batches this rank computed on in the last epoch (predict's gather).
    """

    def __init__(self, batches, communicator, training=False, on_first_batch=None):
        from ..models.data_adapter import ArrayBatches

        self.batches, self.communicator, self.training = batches, communicator, training
        self.steps = batches.steps
        if training and isinstance(batches, ArrayBatches) and \
                batches.num_samples - (batches.steps - 1) * batches.batch_size < communicator.size:
            self.steps -= 1  # the last batch will be skipped: fit's last logging step is the one before
        self.share, self.batch_indices = 1.0, []
        self._on_first_batch = on_first_batch

    def epoch(self, steps=None):
        from ..models.data_adapter import ArrayBatches

        size, rank = self.communicator.size, self.communicator.rank
        self.batch_indices = []
        source = self._array_batches(steps) if isinstance(self.batches, ArrayBatches) else self._dataset_batches(steps)
        for index, (n, take) in enumerate(source):
            start, stop = shard_bounds(n, size, rank)
            if self.training and n < size:
                warnings.warn(f"DataParallel: skipped a training batch of {n} sample(s), fewer than the "
                              f"{size} ranks; choose a batch size and sample count that leave at least "
                              f"{size} samples in the last batch", stacklevel=2)
                continue
            if start == stop:
                continue
            self.batch_indices.append(index)
            self.share = (stop - start) / n
            batch = take(start, stop)
            if self._on_first_batch is not None:
                self._on_first_batch(batch)
                self._on_first_batch = None
            yield batch

    def _shared_permutation(self, n):
        order = random.generator().permutation(n) if self.communicator.rank == 0 else np.empty(n, np.int64)
        return self.communicator.broadcast(order.astype(np.int64, copy=False))

    def _array_batches(self, steps):
        """As ArrayBatches.epoch, with rank 0's shuffle; each rank slices only its own rows."""
        from ..models.data_adapter import map_structure

        source, n = self.batches, self.batches.num_samples
        order = self._shared_permutation(n) if source.shuffle else None
        for step in range(source.steps if steps is None else steps):
            begin = (step * source.batch_size) % n

            def take(start, stop, begin=begin):
                rows = slice(begin + start, begin + stop) if order is None else order[begin + start:begin + stop]
                pick = lambda a: np.ascontiguousarray(a[rows])
                return map_structure(pick, source.x), map_structure(pick, source.y), \
                    map_structure(pick, source.sample_weight)
            yield min(source.batch_size, n - begin), take

    def _dataset_batches(self, steps):
        """As DatasetBatches.epoch (rank 0's order of batches when shuffled), each batch sliced."""
        from ..models.data_adapter import flatten_structure, map_structure, split_batch

        source = self.batches
        if source.indexable and source.shuffle:
            order = self._shared_permutation(source.steps)
            batches = (split_batch(source.data[int(order[step % source.steps])], source.who)
                       for step in range(source.steps if steps is None else steps))
        else:
            batches = source.epoch(steps)
        for batch in batches:
            def take(start, stop, batch=batch):
                return tuple(map_structure(lambda a: a[start:stop], part) for part in batch)
            yield len(flatten_structure(batch[0])[0]), take
        if source.indexable and source.shuffle and hasattr(source.data, "on_epoch_end"):
            source.data.on_epoch_end()
