"""Communicators: how the ranks of a job exchange arrays.

``MPICommunicator`` wraps mpi4py's ``COMM_WORLD`` (processes on one or many hosts; arrays go through
host memory), ``LocalCommunicator`` is the world of one process, and ``nccl.NCCLCommunicator`` moves
CuPy arrays between GPUs. Every array method works in place on a contiguous array.
Objects (``broadcast_object``/``allgather_object``) go through mpi4py's pickling between the ranks of
one job; nothing read from a file is ever unpickled.
"""
from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from ..backend.device import device_of, to_device

# Set by mpiexec in every process it starts: MPICH/Intel MPI (Hydra) and Open MPI.
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
INSTALL_HINT = "pip install 'deepcore[distributed]'  (mpi4py and the MPICH wheel)"


def launcher_size() -> int:
    """How many processes mpiexec started for this job, from its environment (1 when not launched)."""
    for name in LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def mpi_world():
    """mpi4py's ``COMM_WORLD``, or None for a world of one process (mpi4py not installed, not launched).

    Raises when mpiexec started several processes that cannot form one world: each would train alone.
    """
    launched = launcher_size()
    try:
        from mpi4py import MPI
    except ImportError as error:
        if launched > 1:
            raise RuntimeError(f"DataParallel: mpiexec started {launched} processes, but mpi4py cannot be "
                               f"imported ({error}). Install it with: {INSTALL_HINT}") from None
        return None
    world = MPI.COMM_WORLD
    if launched > 1 and world.Get_size() == 1:
        raise RuntimeError(f"DataParallel: mpiexec started {launched} processes, but MPI reports a world of 1: "
                           f"the mpiexec on PATH belongs to another MPI than the one mpi4py uses "
                           f"({MPI.Get_library_version().splitlines()[0].strip()}). Launch with that MPI's "
                           f"mpiexec, e.g. `deepcore launch -n {launched} script.py`.")
    return world


class LocalCommunicator:
    """The world of one process: every collective returns its argument."""

    rank, size = 0, 1

    def allreduce_sum(self, array):
        return array

    def start_allreduce_sum(self, array):
        return None

    def wait(self, handle):
        pass

    def broadcast(self, array, root=0):
        return array

    def broadcast_object(self, value, root=0):
        return value

    def allgather_object(self, value):
        return [value]

    def local_rank(self):
        return 0

    def abort(self, code=1):
        os._exit(code)


class MPICommunicator:
    """Collectives over an mpi4py communicator; CuPy arrays make a round trip through host memory.

    ``start_allreduce_sum`` runs on a background thread over a duplicate of the communicator, so it
    proceeds while this thread computes (and calls collectives of its own on the original one); that
    needs MPI_THREAD_MULTIPLE (mpi4py asks for it; MPICH and Open MPI give it), else it completes at once.
    """

    def __init__(self, comm):
        from mpi4py import MPI

        self._mpi, self.comm = MPI, comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._background = None
        if MPI.Query_thread() == MPI.THREAD_MULTIPLE:
            self._background = (comm.Dup(), ThreadPoolExecutor(1, thread_name_prefix="deepcore-allreduce"))

    def allreduce_sum(self, array):
        """Sum ``array`` over the ranks, in place."""
        host = array if isinstance(array, np.ndarray) else to_device(array, "cpu")
        self.comm.Allreduce(self._mpi.IN_PLACE, host, op=self._mpi.SUM)
        return array if host is array else _copy_back(array, host)

    def start_allreduce_sum(self, array):
        """Start ``allreduce_sum(array)``; ``wait(handle)`` completes it."""
        if self._background is None or not isinstance(array, np.ndarray):
            self.allreduce_sum(array)
            return None
        comm, thread = self._background
        return thread.submit(comm.Allreduce, self._mpi.IN_PLACE, array, op=self._mpi.SUM)

    @staticmethod
    def wait(handle):
        if isinstance(handle, Future):
            handle.result()

    def broadcast(self, array, root=0):
        """Overwrite ``array`` with rank ``root``'s, in place."""
        host = array if isinstance(array, np.ndarray) else to_device(array, "cpu")
        self.comm.Bcast(host, root=root)
        return array if host is array else _copy_back(array, host)

    def broadcast_object(self, value, root=0):
        return self.comm.bcast(value, root=root)

    def allgather_object(self, value):
        return self.comm.allgather(value)

    def local_rank(self):
        """This rank's index among the ranks on its host."""
        node = self.comm.Split_type(self._mpi.COMM_TYPE_SHARED)
        try:
            return node.Get_rank()
        finally:
            node.Free()

    def abort(self, code=1):
        """End every rank of the job (MPI_Abort): a rank that fails must not leave the others waiting."""
        self.comm.Abort(code)


def _copy_back(array, host):
    array[...] = to_device(host, device_of(array))
    return array
