"""Gradient buckets: the gradients of the trainable weights packed into a few flat buffers of about
``bucket_bytes`` each, so the ranks exchange them in a few large allreduces rather than one per tensor
(small messages are latency-bound; PyTorch DDP's default bucket is 25 MB, Horovod's fusion buffer 64 MB).

The last weights come first, as backward produces them: ``ready(variable)`` (called from backward as
each gradient completes) copies a gradient into its bucket and starts the bucket's allreduce once the
bucket is full, so communication overlaps the rest of backward. ``reduce`` starts whatever backward did
not, waits for every bucket and returns the summed gradients. Every rank starts the buckets in the same
order: the order backward completes them, which is the same graph on every rank. Buffers are made once
per list of weights and reused every step.
"""
from __future__ import annotations

import numpy as np

from ..backend.device import get_array_module


class GradientBuckets:
    def __init__(self, variables, bucket_bytes):
        self.key = tuple(id(v) for v in variables)
        self.buckets = []  # (flat buffer, [(variable index, start, stop), ...])
        entries, count, dtype = [], 0, None
        for index in reversed(range(len(variables))):
            variable = variables[index]
            full = count * np.dtype(dtype or variable.dtype).itemsize >= bucket_bytes
            if entries and (variable.dtype != dtype or full):
                self._close(variables, entries, count, dtype)
                entries, count = [], 0
            entries.append((index, count, count + variable.size))
            count, dtype = count + variable.size, variable.dtype
        if entries:
            self._close(variables, entries, count, dtype)
        self.place = {self.key[index]: (number, start, stop) for number, (_, entries) in enumerate(self.buckets)
                      for index, start, stop in entries}
        self._filled, self._started = [0] * len(self.buckets), {}  # this step's progress

    def _close(self, variables, entries, count, dtype):
        xp = get_array_module(variables[entries[0][0]].data)
        self.buckets.append((xp.empty(count, dtype=dtype), entries))

    def fits(self, variables) -> bool:
        return self.key == tuple(id(v) for v in variables)

    def ready(self, variable, scale, communicator):
        """``variable.grad`` is final: copy ``scale *`` it into its bucket; start the bucket when full."""
        place = self.place.get(id(variable))
        if place is None:
            return
        number, start, stop = place
        buffer, entries = self.buckets[number]
        get_array_module(buffer).multiply(variable.grad.reshape(-1), scale, out=buffer[start:stop])
        self._filled[number] += 1
        if self._filled[number] == len(entries):
            self._started[number] = communicator.start_allreduce_sum(buffer)

    def reduce(self, grads, scale, communicator):
        """Sum over the ranks of ``scale * grads``, one allreduce per bucket. A None gradient counts as zeros
        in the sum and stays None (every rank's graph has the same None gradients)."""
        for number, (buffer, entries) in enumerate(self.buckets):
            if number in self._started:
                continue
            xp = get_array_module(buffer)
            for index, start, stop in entries:
                if grads[index] is None:
                    buffer[start:stop] = 0
                else:
                    xp.multiply(grads[index].reshape(-1), scale, out=buffer[start:stop])
            self._started[number] = communicator.start_allreduce_sum(buffer)
        reduced = list(grads)
        for number, (buffer, entries) in enumerate(self.buckets):
            communicator.wait(self._started[number])
            for index, start, stop in entries:
                if grads[index] is not None:
                    reduced[index] = buffer[start:stop].reshape(grads[index].shape)
        self._filled, self._started = [0] * len(self.buckets), {}
        return reduced
