"""NCCL (``cupy.cuda.nccl``): allreduce and broadcast of CuPy arrays directly between GPUs.

MPI only starts it: rank 0 makes the NCCL unique ids and broadcasts them over MPI, then every rank
joins the NCCL communicators. Host (NumPy) arrays still go through the MPI communicator. Importing this
module never needs CuPy; building an ``NCCLCommunicator`` does.

Two NCCL communicators: one for the collectives issued on the current stream (weights, synchronized
batch norm), one for the gradient buckets started during backward on a side stream, so that they
overlap the backward kernels; each communicator is used from one stream only.
"""
from __future__ import annotations

import numpy as np

_NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
               "int32": "NCCL_INT32", "int64": "NCCL_INT64", "uint8": "NCCL_UINT8"}


def nccl_available() -> tuple[bool, str]:
    """(True, "") when cupy.cuda.nccl imports and reports NCCL, else (False, why)."""
    try:
        from cupy.cuda import nccl
        nccl.get_version()
    except Exception as error:  # no CuPy, no NCCL wheel, or no driver: each raises its own type
        return False, f"{type(error).__name__}: {error}"
    return True, ""


def select_local_gpu(host):
    """Make GPU ``local rank % GPUs on this host`` CuPy's current device; returns its index, or None
    without CuPy or GPUs. The local rank is the rank among the processes of this host."""
    local_rank = host.local_rank()  # a collective: every rank calls it, GPUs or not
    try:
        import cupy
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no CuPy, no driver: a CPU process
        return None
    if count == 0:
        return None
    index = local_rank % count
    cupy.cuda.Device(index).use()
    return index


class NCCLCommunicator:
    """Collectives on CuPy arrays over NCCL, on the current CuPy stream; NumPy arrays go to ``host``."""

    def __init__(self, host):
        from cupy.cuda import nccl

        self._nccl, self.host = nccl, host
        self.rank, self.size = host.rank, host.size
        unique_ids = (nccl.get_unique_id(), nccl.get_unique_id()) if host.rank == 0 else None
        unique_ids = host.broadcast_object(unique_ids)
        self.comm = nccl.NcclCommunicator(host.size, unique_ids[0], host.rank)
        self._gradients = nccl.NcclCommunicator(host.size, unique_ids[1], host.rank)
        self._side_stream = None

    def _type(self, array):
        name = _NCCL_TYPES.get(np.dtype(array.dtype).name)
        if name is None:
            raise TypeError(f"NCCLCommunicator: arrays of dtype {array.dtype} are not supported; "
                            f"use one of {sorted(_NCCL_TYPES)}")
        return getattr(self._nccl, name)

    @staticmethod
    def _stream():
        import cupy
        return cupy.cuda.get_current_stream().ptr

    def allreduce_sum(self, array):
        if isinstance(array, np.ndarray):
            return self.host.allreduce_sum(array)
        self.comm.allReduce(array.data.ptr, array.data.ptr, array.size, self._type(array), self._nccl.NCCL_SUM,
                            self._stream())
        return array

    def start_allreduce_sum(self, array):
        """Sum ``array`` on a side stream once the current stream has produced it; ``wait`` joins it."""
        if isinstance(array, np.ndarray):
            return self.host.start_allreduce_sum(array)
        import cupy

        if self._side_stream is None:
            self._side_stream = cupy.cuda.Stream(non_blocking=True)
        self._side_stream.wait_event(cupy.cuda.get_current_stream().record())
        self._gradients.allReduce(array.data.ptr, array.data.ptr, array.size, self._type(array),
                                  self._nccl.NCCL_SUM, self._side_stream.ptr)
        return self._side_stream.record()

    def wait(self, handle):
        """The current stream waits for a started allreduce (a host one: this thread waits)."""
        if handle is None or not hasattr(handle, "synchronize"):
            self.host.wait(handle)
            return
        import cupy
        cupy.cuda.get_current_stream().wait_event(handle)

    def broadcast(self, array, root=0):
        if isinstance(array, np.ndarray):
            return self.host.broadcast(array, root)
        self.comm.bcast(array.data.ptr, array.size, self._type(array), root, self._stream())
        return array

    def broadcast_object(self, value, root=0):
        return self.host.broadcast_object(value, root)

    def allgather_object(self, value):
        return self.host.allgather_object(value)

    def abort(self, code=1):
        self.host.abort(code)
