"""Single-threaded GEMM for the numba kernels: each numba thread calls BLAS on its own block of the work.

Two BLAS libraries can serve it. At import one of them is bound to the
symbols ``deepcore_sgemm`` and ``deepcore_dgemm`` (the Fortran ``?gemm``
ABI, every argument by reference), which the cached kernels call by name:

- Intel MKL's sequential layer, when the ``mkl`` wheel is installed
  (``pip install deepcore[mkl]``; ``make`` installs it). On this project's
  2-core Xeon (AVX-512), one thread: 128x784 @ 784x256 0.32 ms against
  OpenBLAS's 0.49, 784x128 @ 128x256 0.34 against 0.42; the eight GEMMs of
  an MLP training step (784-256-256-10, batch 128) on 2 threads 0.56-0.64 ms
  against 0.78-0.87 alone, 1.0 against 1.2 ms inside the step. The
  convolution workloads run no faster on it (their GEMMs are small), and
  for outputs narrower than NARROW columns it is slower, so those stay on
  OpenBLAS (``deepcore_?gemm_narrow``).
- otherwise SciPy's OpenBLAS (``scipy.linalg.cython_blas``, what numba's
  ``np.dot`` calls), held to one thread while numba's threads call it.

``DEEPCORE_BLAS=openblas`` picks OpenBLAS even where MKL is installed.
numba's cache checks only each file's own timestamp: after editing ``gemm``,
delete the ``*.nbi``/``*.nbc`` caches of the modules that call it.

Why not NumPy's multi-threaded ``@``: it alternates two thread pools, and
numba's OpenMP workers spin after every loop on the cores that OpenBLAS's
workers need: one CIFAR 32->32 conv forward took 0.65 s that way against
25-60 ms here (2 cores, 4 MiB im2col chunks). A multi-threaded BLAS called
from inside a numba loop would oversubscribe the cores.
"""
from __future__ import annotations

import ctypes
import functools
import glob
import importlib.metadata
import os

import numba
import numpy as np
from numba import njit, prange, types

from . import reference
from .cpu_support import same_float

MKL_SEQUENTIAL, MKL_LP64 = 1, 0  # MKL_Set_Threading_Layer / MKL_Set_Interface_Layer codes


def _mkl_gemms():
    """(version, sgemm address, dgemm address) of the installed MKL wheel's sequential BLAS, or None."""
    try:
        distribution = importlib.metadata.distribution("mkl")
    except importlib.metadata.PackageNotFoundError:
        return None
    paths = [distribution.locate_file(f) for f in distribution.files or () if f.name.startswith("libmkl_rt.so")]
    if not paths:
        return None
    try:
        library = ctypes.CDLL(str(paths[0]))
        # Both return the layer in force: another MKL already loaded in this process may hold a threaded one.
        if library.MKL_Set_Threading_Layer(MKL_SEQUENTIAL) != MKL_SEQUENTIAL:
            return None
        if library.MKL_Set_Interface_Layer(MKL_LP64) != MKL_LP64:
            return None
        return (distribution.version, *(ctypes.cast(getattr(library, name), ctypes.c_void_p).value
                                         for name in ("sgemm_", "dgemm_")))
    except (OSError, AttributeError):
        return None


def _scipy_gemms():
    """(sgemm address, dgemm address) of SciPy's BLAS, or None without SciPy."""
    try:
        import scipy.linalg.cython_blas  # noqa: F401
    except ImportError:
        return None
    from numba.extending import get_cython_function_address

    return tuple(get_cython_function_address("scipy.linalg.cython_blas", name) for name in ("sgemm", "dgemm"))


def _bind() -> str | None:
    """Bind deepcore_?gemm to MKL (or SciPy's OpenBLAS without it) and deepcore_?gemm_narrow to SciPy's
    OpenBLAS; the name of what was bound, or None without SciPy."""
    import llvmlite.binding

    openblas = _scipy_gemms()
    if openblas is None:
        return None
    mkl = None if os.environ.get("DEEPCORE_BLAS", "").lower() == "openblas" else _mkl_gemms()
    for suffix, addresses in (("", openblas if mkl is None else mkl[1:]), ("_narrow", openblas)):
        for symbol, address in zip(("deepcore_sgemm", "deepcore_dgemm"), addresses):
            llvmlite.binding.add_symbol(symbol + suffix, address)
    if mkl is None:
        return "openblas (scipy)"
    return f"mkl {mkl[0]} (sequential); openblas (scipy) below {NARROW} output columns"


NARROW = 16  # outputs with fewer columns run on OpenBLAS even with MKL (see gemm)
ROWS_PER_THREAD = 64  # matmul splits the output's rows among threads when each gets at least this many
BLAS = _bind()  # what the kernels' GEMMs run on, or None


def available() -> bool:
    """Is a BLAS bound for the numba kernels (MKL, or SciPy's OpenBLAS)?"""
    return BLAS is not None


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


class one_thread:
    """SciPy's OpenBLAS runs single-threaded inside this block (restored after); MKL's sequential layer always
    does. A class, not a generator: every GEMM kernel enters one."""

    __slots__ = ("before",)

    def __enter__(self):
        threads = None if BLAS is None else _openblas_threads()
        self.before = None if threads is None else threads[0]()
        if self.before not in (None, 1):
            threads[1](1)
        return self

    def __exit__(self, *exc):
        if self.before not in (None, 1):
            _openblas_threads()[1](self.before)
        return False


# ------------------------------------------------------------------------------------------ gemm for kernels

_POINTERS = types.void(*[types.voidptr] * 13)
_sgemm = types.ExternalFunction("deepcore_sgemm", _POINTERS)
_dgemm = types.ExternalFunction("deepcore_dgemm", _POINTERS)
_sgemm_narrow = types.ExternalFunction("deepcore_sgemm_narrow", _POINTERS)
_dgemm_narrow = types.ExternalFunction("deepcore_dgemm_narrow", _POINTERS)


@njit(cache=True)
def _layout(x):
    """(column-major?, leading dimension) of a 2-D view with a unit stride along one axis."""
    rows, cols = x.shape
    s0, s1 = x.strides[0] // x.itemsize, x.strides[1] // x.itemsize
    if (s1 == 1 or cols == 1) and (rows == 1 or s0 >= cols):
        return False, max(s0, cols, 1)
    if (s0 == 1 or rows == 1) and (cols == 1 or s1 >= rows):
        return True, max(s1, rows, 1)
    raise ValueError("gemm: an operand has no unit stride")


@njit(cache=True)
def gemm(a, b, c, accumulate):
    """c = a @ b, or c += a @ b when ``accumulate``, on the calling thread: 2-D float32 or float64 views,
    a and b row- or column-major (a transposed view ``x.T`` goes to BLAS as it is), c row-major."""
    a_columns, lda = _layout(a)
    b_columns, ldb = _layout(b)
    c_columns, ldc = _layout(c)
    if c_columns:
        raise ValueError("gemm: the output must be row-major")
    # Row-major c = a @ b is column-major c.T = b.T @ a.T: the same memory, the operands swapped.
    ints = np.empty(6, np.int32)
    ints[0], ints[1], ints[2] = c.shape[1], c.shape[0], a.shape[1]
    ints[3], ints[4], ints[5] = ldb, lda, ldc
    flags = np.empty(2, np.uint8)
    flags[0] = ord("T") if b_columns else ord("N")
    flags[1] = ord("T") if a_columns else ord("N")
    scalars = np.empty(2, c.dtype)
    scalars[0], scalars[1] = 1, 1 if accumulate else 0
    args = (flags[0:].ctypes, flags[1:].ctypes, ints[0:].ctypes, ints[1:].ctypes, ints[2:].ctypes,
            scalars[0:].ctypes, b.ctypes, ints[3:].ctypes, a.ctypes, ints[4:].ctypes, scalars[1:].ctypes,
            c.ctypes, ints[5:].ctypes)
    if c.shape[1] < NARROW:  # MKL 1.4-2x slower than OpenBLAS at 6 columns, 0.6-0.9x from 16 to 256
        if c.itemsize == 8:
            _dgemm_narrow(*args)
        else:
            _sgemm_narrow(*args)
    elif c.itemsize == 8:
        _dgemm(*args)
    else:
        _sgemm(*args)


# ------------------------------------------------------------------------------------------ matmul kernel

@njit(cache=True)
def epilogue(c, bias, relu):
    """c += bias (one value per column; none when empty), then max(c, 0) when ``relu``, on a C-contiguous
    block just computed: whole rows at a time, about 256 values with the bias tiled to match, so that few
    columns (a first conv layer's 6) still give long inner loops (``_epilogue_by_row`` for other layouts)."""
    if c.size == 0 or (bias.size == 0 and not relu):
        return
    lanes = c.shape[1] * max(1, 256 // c.shape[1])
    tiled = np.empty(lanes if bias.size else 0, c.dtype)
    for j in range(tiled.size):
        tiled[j] = bias[j % c.shape[1]]
    flat = c.reshape(-1)
    for start in range(0, flat.size, lanes):
        _bias_relu_run(flat[start:start + lanes], tiled, relu)


@njit(cache=True)
def _epilogue_by_row(c, bias, relu):
    """``epilogue`` on a block of any layout (a block of columns), one row at a time."""
    for i in range(c.shape[0]):
        _bias_relu_run(c[i], bias, relu)


@njit(cache=True)
def _bias_relu_run(run, bias, relu):
    """run += bias[:run.size] (unless bias is empty), then max(run, 0) when ``relu``."""
    if bias.size:
        for j in range(run.size):
            run[j] += bias[j]
    if relu:
        for j in range(run.size):
            if run[j] < 0:
                run[j] = 0


@njit(cache=True)
def _block(c, t, threads, split_columns):
    """(first row, end row, first column, end column) of thread t's block of c: its share of the columns
    (``split_columns``) or of the rows."""
    m, n = c.shape
    if split_columns:
        return 0, m, n * t // threads, n * (t + 1) // threads
    return m * t // threads, m * (t + 1) // threads, 0, n


@njit(parallel=True, cache=True)
def _matmul(a, b, c, bias, relu, threads, split_columns):
    """c = a @ b, thread t computing its block of c (``_block``), then the epilogue on that block while it is
    in cache (``bias`` empty for none)."""
    for t in prange(threads):
        r0, r1, c0, c1 = _block(c, t, threads, split_columns)
        if r1 <= r0 or c1 <= c0:
            pass
        elif split_columns:
            gemm(a, b[:, c0:c1], c[:, c0:c1], False)
            _epilogue_by_row(c[:, c0:c1], bias[c0:c1] if bias.size else bias, relu)
        else:  # whole rows: a contiguous block, which the epilogue's loops vectorize
            gemm(a[r0:r1], b, c[r0:r1], False)
            epilogue(c[r0:r1], bias, relu)


@njit(parallel=True, cache=True)
def _dense_backward(x, w, g, gx, gw, gb, threads, split_gx, split_gw):
    """gx = g @ w.T (unless gx is empty), gw = x.T @ g and gb = g's column sums, thread t computing its block
    of each: one parallel launch instead of three kernels."""
    for t in prange(threads):
        r0, r1, c0, c1 = _block(gx, t, threads, split_gx)
        if r1 > r0 and c1 > c0:
            gemm(g[r0:r1], w.T[:, c0:c1], gx[r0:r1, c0:c1], False)
        r0, r1, c0, c1 = _block(gw, t, threads, split_gw)
        if r1 > r0 and c1 > c0:
            gemm(x.T[r0:r1], g[:, c0:c1], gw[r0:r1, c0:c1], False)
        c0, c1 = gb.size * t // threads, gb.size * (t + 1) // threads
        sums = np.zeros(c1 - c0)
        for r in range(g.shape[0]):
            row = g[r, c0:c1]
            for j in range(c1 - c0):
                sums[j] += row[j]
        for j in range(c1 - c0):
            gb[c0 + j] = sums[j]


def matmul(a, b):
    """a @ b for 2-D float arrays on numba's threads, each calling single-threaded BLAS on a block of the output.

    NumPy's ``@`` would run OpenBLAS's own threads, which then spin for a while and take the cores from
    numba's threads in the next kernel: with them, the MNIST CNN's conv kernels ran 1.3-1.7x slower within a
    training step (18.5 -> 14.4 ms a step with OpenBLAS held to one thread). The threads split the output's
    rows, unless that leaves each fewer than ROWS_PER_THREAD and the output is at least as wide as tall: then
    its columns. Measured on 2 threads, rows against columns, MKL: 128x256 @ 256x256 53 us against 57,
    128x400 @ 400x120 40 against 49, 128x10 @ 10x256 5 against 11, 64x500 @ 500x800 164 against 144;
    OpenBLAS: 128x256 @ 256x256 83 against 89, 400x128 @ 128x120 54 against 83, 128x784 @ 784x256 269
    against 243, 64x800 @ 800x500 623 against 275. Transposed operands (``x.T @ g`` in a backward pass) go
    to BLAS as they are, without a copy.
    """
    if not (same_float(a, b) and a.ndim == b.ndim == 2 and a.shape[1] == b.shape[0]) or 0 in a.shape + b.shape:
        return reference.matmul(a, b)
    return _run(a, b, np.empty(0, a.dtype), False)


def dense_forward(x, w, bias, relu):
    """x @ w + bias, then max(., 0) when ``relu``: matmul with the epilogue applied by each thread to its own
    block of the output right after computing it, instead of another pass (and another parallel launch)."""
    if not (same_float(x, w, bias) and x.ndim == w.ndim == 2 and x.shape[1] == w.shape[0]
            and bias.shape == (w.shape[1],)) or 0 in x.shape + w.shape:
        return reference.dense_forward(x, w, bias, relu)
    return _run(x, w, np.ascontiguousarray(bias), bool(relu))


def dense_backward(x, w, g, input_grad):
    """(g @ w.T, or None unless ``input_grad``; x.T @ g; g summed over rows): a Dense layer's gradients in
    one parallel launch. Every kernel launch costs ~5-10 us more inside a training step than in a loop of it
    (the code paths are cold after the Python between kernels), as much as the MLP's small GEMMs."""
    if not (same_float(x, w, g) and x.ndim == w.ndim == g.ndim == 2 and g.shape == (x.shape[0], w.shape[1])
            and x.shape[1] == w.shape[0]) or 0 in x.shape + w.shape:
        return reference.dense_backward(x, w, g, input_grad)
    x, w, g = (a if a.flags.c_contiguous or a.flags.f_contiguous else np.ascontiguousarray(a) for a in (x, w, g))
    gx = np.empty(x.shape if input_grad else (0, 0), x.dtype)
    gw, gb = np.empty(w.shape, w.dtype), np.empty(w.shape[1], w.dtype)
    threads = numba.get_num_threads()
    split_gx, split_gw = _split_columns(gx, threads), _split_columns(gw, threads)
    if _mkl_only(threads, (gx, split_gx), (gw, split_gw)):
        _dense_backward(x, w, g, gx, gw, gb, threads, split_gx, split_gw)
    else:
        with one_thread():
            _dense_backward(x, w, g, gx, gw, gb, threads, split_gx, split_gw)
    return (gx if input_grad else None), gw, gb


def _split_columns(c, threads):
    """Threads split c's columns when splitting its rows would leave each fewer than ROWS_PER_THREAD and c is
    at least as wide as tall (see matmul)."""
    m, n = c.shape
    return m < ROWS_PER_THREAD * threads and n >= m


def _mkl_only(threads, *outputs):
    """Whether MKL computes every block of these (output, split_columns): none narrower than NARROW columns.
    Then OpenBLAS's thread count does not matter; otherwise the kernel runs inside ``one_thread``."""
    return BLAS.startswith("mkl") and all(c.shape[1] // (threads if split else 1) >= NARROW
                                          for c, split in outputs if c.size)


def _run(a, b, bias, relu):
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        a = np.ascontiguousarray(a)
    if not (b.flags.c_contiguous or b.flags.f_contiguous):
        b = np.ascontiguousarray(b)
    c = np.empty((a.shape[0], b.shape[1]), a.dtype)
    threads = numba.get_num_threads()
    split_columns = _split_columns(c, threads)
    if _mkl_only(threads, (c, split_columns)):
        _matmul(a, b, c, bias, relu, threads, split_columns)
        return c
    with one_thread():
        _matmul(a, b, c, bias, relu, threads, split_columns)
    return c
