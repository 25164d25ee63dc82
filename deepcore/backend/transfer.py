"""Input batches to the GPU: staged in pinned host memory, copied asynchronously.

``to_device_async(array)`` is ``to_device`` for the batches ``fit``,
``evaluate`` and ``predict`` feed the model. A pageable NumPy array makes
CuPy copy synchronously: the host waits for the copy, and for every kernel
queued before it, before it can prepare the next batch. Here the batch is
first copied (by the host, at memory speed) into a page-locked staging
buffer, then a DMA copy to a fresh device array is queued on the current
stream and the call returns at once: stream order keeps it after the kernels
that may still read the memory the pool hands out, and the host goes on
loading the next batch while the GPU trains on this one.

Staging buffers are kept per (shape, dtype), ``DEPTH`` of each in rotation;
before a buffer is overwritten, the host waits for the event recorded after
its last copy. On the CPU, and for arrays already on the GPU, it is
``to_device``.
"""
from __future__ import annotations

import collections
import threading

import numpy as np

from .device import get_device, to_device

DEPTH = 2  # staging buffers per batch shape: the host may run this many batches ahead of the copies
_local = threading.local()


def to_device_async(array, target=None):
    """``to_device(array, target)``, through a pinned staging buffer when a host array goes to the GPU."""
    target = get_device() if target is None else target
    if target.name == "cpu" or not isinstance(array, np.ndarray) or array.size == 0:
        return to_device(array, target)
    import cupy
    import cupyx

    rings = _local.__dict__.setdefault("rings", {})
    key = (array.shape, array.dtype.str)
    ring = rings.get(key)
    if ring is None:
        ring = rings[key] = collections.deque(
            [cupyx.empty_pinned(array.shape, array.dtype), None] for _ in range(DEPTH))
    slot = ring[0]
    ring.rotate(-1)
    staging, last_copy = slot
    if last_copy is not None:
        last_copy.synchronize()  # that copy has read the buffer: it may be overwritten
    np.copyto(staging, array)
    stream = cupy.cuda.get_current_stream()
    result = cupy.empty(array.shape, array.dtype)
    result.set(staging, stream=stream)
    slot[1] = stream.record()
    return result
