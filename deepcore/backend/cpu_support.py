"""What the numba CPU kernels share: their dtypes, per-thread scratch buffers, and numba's thread pool.

Importing this starts numba's thread pool with a short OpenMP spin
(``GOMP_SPINCOUNT``, for that one library load, unless the environment sets
a wait policy): an idle worker spins ~20k iterations for the next kernel,
then sleeps. libgomp's default (300k) spun long enough to take the cores
from NumPy's OpenBLAS threads: MNIST CNN step 225 -> 40 ms, CIFAR CNN
1012 -> 384 ms, ResNet-20 1948 -> 825 ms with the passive policy (no spin)
then. Since matmul runs on numba's threads too (``cpu_blas.matmul``), no
other pool competes, and sleeping costs a wake-up per kernel: with 20k spins
instead of none, MLP step 4.7 -> 3.4 ms, LeNet-5 11.6 -> 9.7-10.9 ms, MNIST
CNN 14.8 -> 12.9-13.9 ms on 2 cores (200k spins: one run in two 10x slower).

Every kernel runs on all of numba's threads, however small its work. Small
kernels used to run on one thread (``numba.set_num_threads(1)`` around the
call, below 32k elements), which let the idle worker go to sleep, and the
next threaded kernel paid for waking it: ~50 us on this project's 2-core
VM, as much as a 128x256 @ 256x256 GEMM. Without that path (and its
context managers), training steps on 2 cores, four runs each way: MLP
1.7-1.8 -> 1.6-1.7 ms, LeNet-5 6.6-7.1 -> 6.3-6.6 ms, MNIST CNN 8.0-9.0 ->
7.4-8.1 ms; CIFAR CNN and ResNet-20 unchanged.

It also asks glibc to keep freed memory (``_keep_freed_memory``): a training
step allocates and frees the same few-megabyte activations every time, and
glibc's defaults hand them back to the kernel and take them again, zeroed
page by page. Measured on 2 cores, one training step: LeNet-5 27 -> 23 ms,
MNIST CNN 24 -> 20 ms, ResNet-20 444 -> 333 ms.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading

import numba
import numpy as np

FLOAT_TYPES = (np.float32, np.float64)
SPIN_COUNT = 20_000  # libgomp spins of an idle numba worker before it sleeps (see the module docstring)
_local = threading.local()


def same_float(*arrays):
    """True when every array is float32 (or every one float64): the dtypes the numba kernels are built for."""
    dtype = arrays[0].dtype
    return dtype in FLOAT_TYPES and all(a.dtype == dtype for a in arrays)


def scratch(name, shape, dtype):
    """A work buffer of this Python thread, kept under ``name`` and reused across calls; never return it."""
    buffers = _local.__dict__.setdefault("buffers", {})
    size = int(np.prod(shape))
    buffer = buffers.get((name, np.dtype(dtype)))
    if buffer is None or buffer.size < size:
        buffer = buffers[name, np.dtype(dtype)] = np.empty(size, dtype)
    return buffer[:size].reshape(shape)


def _openmp_already_loaded() -> bool:
    """Has another library (torch, typically) loaded libgomp, with its own (spinning) wait policy?"""
    try:
        with open("/proc/self/maps") as maps:
            return "libgomp" in maps.read()
    except OSError:
        return "torch" in sys.modules


def _start_threads():
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    if _openmp_already_loaded() and "NUMBA_THREADING_LAYER" not in os.environ:
        # Too late to set the OpenMP spin: numba would share the long-spinning pool (MLP step with torch
        # imported first: 28 ms on OpenMP vs 2.3 ms on workqueue, 2 cores). Use numba's own pool instead.
        numba.config.THREADING_LAYER = "workqueue"
        numba.get_num_threads()
        return
    os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)  # read once, when numba's OpenMP layer loads libgomp
    try:
        numba.get_num_threads()  # starts the pool
    finally:
        del os.environ["GOMP_SPINCOUNT"]


def _keep_freed_memory():
    """Serve arrays up to 32 MiB from the heap (not fresh mmaps) and never trim the heap, unless the
    environment already tunes glibc's malloc. A no-op off glibc."""
    if any(name.startswith("MALLOC_") for name in os.environ):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    mallopt(M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest; the default starts at 128 KiB
    mallopt(M_TRIM_THRESHOLD, 1 << 30)


_start_threads()
_keep_freed_memory()
