"""The BLAS that numba's ``np.dot`` calls (SciPy's), held to one thread while our numba threads call it.

The convolution kernels split their GEMMs into chunks, one numba thread per
chunk, each calling single-threaded BLAS: one thread pool for the whole op.
Handing each GEMM to NumPy's multi-threaded OpenBLAS instead alternates two
pools, and numba's OpenMP workers spin after every loop on the cores that
OpenBLAS's workers need: one CIFAR 32->32 conv forward took 0.65 s that way
against 25-60 ms here (2 cores, 4 MiB im2col chunks). A multi-threaded BLAS
called from inside the loop would oversubscribe the cores, and OpenBLAS warns
that it may hang.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import os

import numpy as np
from numba import njit, prange

from . import reference
from .cpu_support import numba_threads, same_float


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Can numba's ``np.dot`` run here? It needs SciPy's BLAS (``scipy.linalg.cython_blas``)."""
    try:
        import scipy.linalg.cython_blas  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _openblas_threads():
    """(get, set) of the thread count of SciPy's bundled OpenBLAS, or None (another BLAS, or not found)."""
    import scipy

    root = os.path.dirname(scipy.__file__)
    for pattern in (os.path.join(root, os.pardir, "scipy.libs", "libscipy_openblas*"),
                    os.path.join(root, ".dylibs", "libscipy_openblas*")):
        for path in sorted(glob.glob(pattern)):
            library = ctypes.CDLL(path)  # already loaded by cython_blas: the same instance
            for prefix in ("scipy_", ""):
                get = getattr(library, prefix + "openblas_get_num_threads", None)
                set_ = getattr(library, prefix + "openblas_set_num_threads", None)
                if get is not None and set_ is not None:
                    return get, set_
    return None


@contextlib.contextmanager
def one_thread():
    """SciPy's OpenBLAS runs single-threaded inside this block (restored after)."""
    threads = _openblas_threads()
    if threads is None:
        yield
        return
    get, set_ = threads
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)


# ------------------------------------------------------------------------------------------ matmul kernel

@njit(parallel=True, cache=True)
def _rows(a, b, out, threads):
    """out = a @ b, thread t taking the t-th block of a's rows."""
    m = a.shape[0]
    for t in prange(threads):
        first, last = m * t // threads, m * (t + 1) // threads
        np.dot(a[first:last], b, out[first:last])


def matmul(a, b):
    """a @ b for 2-D float arrays on numba's threads, each calling single-threaded BLAS.

    NumPy's ``@`` would run OpenBLAS's own threads, which then spin for a while and take the cores from
    numba's threads in the next kernel: with them, the MNIST CNN's conv kernels ran 1.3-1.7x slower within a
    training step (18.5 -> 14.4 ms a step with OpenBLAS held to one thread). The threads split a's rows; a
    transposed ``a`` (``x.T @ g`` in a backward pass) is copied C-contiguous first: for the MLP's 784x128 @
    128x256 that took 0.30 ms against 0.44 ms for splitting the shared dimension and adding partial products.
    """
    if not (same_float(a, b) and a.ndim == b.ndim == 2 and a.shape[1] == b.shape[0]) or 0 in a.shape + b.shape:
        return reference.matmul(a, b)
    if not b.flags.f_contiguous:
        b = np.ascontiguousarray(b)
    with numba_threads(a.shape[0] * a.shape[1] * b.shape[1]) as threads, one_thread():
        out = np.empty((a.shape[0], b.shape[1]), a.dtype)
        _rows(np.ascontiguousarray(a), b, out, min(threads, a.shape[0]))
        return out
