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

def _external_gemm():
    """numba's own C helper around SciPy's ?gemm (the one ``np.dot`` uses), callable from numba code by name,
    so the kernels calling it stay cacheable (a ctypes function pointer would not be)."""
    from numba import types

    return types.ExternalFunction("numba_xxgemm", types.intc(
        types.char, types.char, types.char, types.intp, types.intp, types.intp, types.voidptr, types.voidptr,
        types.intp, types.voidptr, types.intp, types.voidptr, types.voidptr, types.intp))


_xxgemm = _external_gemm()
_ALPHA_BETA = {np.dtype(t): np.array([1, 0], t) for t in (np.float32, np.float64)}  # read-only, shared by calls


@njit(parallel=True, cache=True)
def _gemm(kind, a, a_transposed, b, b_transposed, c, m, n, k, scalars, threads, split_n):
    """c (m x n, row-major) = a @ b, from flat memory: a is m x k row-major, or its transpose (k x m) when
    ``a_transposed``; the same for b (k x n). In BLAS's column-major terms this is c.T = b.T @ a.T. Thread t
    computes the t-th block of c's columns (``split_n``) or of its rows; ``scalars`` = (1, 0): alpha, beta."""
    trans_b, ld_b = (ord("t"), k) if b_transposed else (ord("n"), n)
    trans_a, ld_a = (ord("t"), m) if a_transposed else (ord("n"), k)
    for t in prange(threads):
        if split_n:
            lo, hi = n * t // threads, n * (t + 1) // threads
            if hi > lo:
                _xxgemm(kind, trans_b, trans_a, hi - lo, m, k, scalars[0:].ctypes,
                        b[lo * k if b_transposed else lo:].ctypes, ld_b, a.ctypes, ld_a, scalars[1:].ctypes,
                        c[lo:].ctypes, n)
        else:
            lo, hi = m * t // threads, m * (t + 1) // threads
            if hi > lo:
                _xxgemm(kind, trans_b, trans_a, n, hi - lo, k, scalars[0:].ctypes, b.ctypes, ld_b,
                        a[lo if a_transposed else lo * k:].ctypes, ld_a, scalars[1:].ctypes, c[lo * n:].ctypes, n)


def matmul(a, b):
    """a @ b for 2-D float arrays on numba's threads, each calling single-threaded BLAS on a block of the output.

    NumPy's ``@`` would run OpenBLAS's own threads, which then spin for a while and take the cores from
    numba's threads in the next kernel: with them, the MNIST CNN's conv kernels ran 1.3-1.7x slower within a
    training step (18.5 -> 14.4 ms a step with OpenBLAS held to one thread). The threads split the larger of
    the output's sides (quiet machine, 2 threads: 128x784 @ 784x256 0.24 ms split by columns against 0.29 by
    rows, 64x800 @ 800x500 0.29 against 0.46, 784x128 @ 128x256 0.21 by rows against 0.25); transposed
    operands (``x.T @ g`` in a backward pass) go to BLAS as they are, without a copy.
    """
    if not (same_float(a, b) and a.ndim == b.ndim == 2 and a.shape[1] == b.shape[0]) or 0 in a.shape + b.shape:
        return reference.matmul(a, b)
    (m, k), n = a.shape, b.shape[1]
    a, b = (x if x.flags.c_contiguous or x.flags.f_contiguous else np.ascontiguousarray(x) for x in (a, b))
    c = np.empty((m, n), a.dtype)
    with numba_threads(m * k * n) as threads, one_thread():
        _gemm(np.int8(ord("s") if a.dtype == np.float32 else ord("d")), a.ravel(order="K"), not a.flags.c_contiguous,
              b.ravel(order="K"), not b.flags.c_contiguous, c.reshape(-1), m, n, k, _ALPHA_BETA[a.dtype],
              threads, n >= m)
    return c
