"""Fast CPU kernels: NumPy BLAS GEMMs and numba parallel loops.

Each function has the signature of its namesake in ``reference.py`` and is
tested against it (``tests/backend/test_cpu_kernels.py``). ``KERNELS`` maps
kernel names to the versions here, convolution's from ``cpu_conv.py``,
pooling's from ``cpu_pool.py``, batch norm's from ``cpu_batchnorm.py``, the
optimizer updates' from ``cpu_optim.py``, matmul from ``cpu_blas.py``. The
numba kernels are built for float32 and float64 (the dtype in is the dtype
out); anything else runs the reference.
Per-channel statistics are accumulated in float64.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from . import cpu_batchnorm, cpu_blas, cpu_conv, cpu_optim, cpu_pool, reference
from .cpu_support import same_float

LANES = 256  # values per block of the per-channel sums (whole rows), as cpu_batchnorm
FLUSH = 32  # blocks summed in the input's dtype before adding into the float64 sums


def _channels(*arrays):
    """C-contiguous (M, C) views of channels-last arrays."""
    return [np.ascontiguousarray(a).reshape(-1, a.shape[-1]) for a in arrays]


def _fits(x, *vectors):
    """x and the per-channel vectors share a numba dtype, and each vector has one entry per channel."""
    return same_float(x, *vectors) and x.ndim >= 1 and all(v.shape == x.shape[-1:] for v in vectors)


@njit(parallel=True, cache=True)
def _bias_relu(x, bias, y):
    for r in prange(x.shape[0]):
        for c in range(x.shape[1]):
            v = x[r, c] + bias[c]
            y[r, c] = 0 if v < 0 else v  # NaN passes through, as np.maximum


@njit(parallel=True, cache=True)
def _relu_backward(gy, y, gx):
    for i in prange(gy.size):
        gx[i] = gy[i] if y[i] > 0 else gy[i] * 0  # gy * 0 keeps NaN and -0.0, as gy * (y > 0)


@njit(parallel=True, cache=True)
def _relu(x, y):
    for i in prange(x.size):
        y[i] = 0 if x[i] < 0 else x[i]


@njit(parallel=True, cache=True)
def _bias_relu_backward(gy, y, gx, partial):
    """gx = gy where y > 0 (else gy * 0) on flat arrays, and partial[t] = thread t's sums of gx over blocks of
    ``lanes`` values (whole rows: lane j is channel j % C). Blocks keep the inner loop long for few channels:
    row by row, (128, 28, 28, 6) took 0.56 ms and (64, 24, 24, 20) 0.75 ms, in blocks 0.29-0.36 and 0.37-0.39.
    The sums run in gy's dtype over FLUSH blocks at a time, then in float64: (128, 256) 16 -> 9 us,
    (64, 24, 24, 32) 0.61 -> 0.38 ms against float64 all along."""
    threads, lanes = partial.shape
    blocks = -(-gy.size // lanes)  # the last one may be partial: whole rows, fewer of them
    for t in prange(threads):
        total = partial[t]
        total[:] = 0
        sums = np.zeros(lanes, gy.dtype)
        first, last = blocks * t // threads, blocks * (t + 1) // threads
        for b in range(first, last):
            end = min((b + 1) * lanes, gy.size)
            gy_b, y_b, gx_b = gy[b * lanes:end], y[b * lanes:end], gx[b * lanes:end]
            for j in range(end - b * lanes):
                g = gy_b[j] if y_b[j] > 0 else gy_b[j] * 0
                gx_b[j] = g
                sums[j] += g
            if (b - first) % FLUSH == FLUSH - 1 or b == last - 1:
                for j in range(lanes):
                    total[j] += sums[j]
                    sums[j] = 0


@njit(cache=True)
def _lane_sums(partial, out):
    """out[c] = the sum of partial[:, j] over the lanes j of channel c (j % C == c), rounded once."""
    sums = np.zeros(out.size)
    for t in range(partial.shape[0]):
        for j in range(partial.shape[1]):
            sums[j % out.size] += partial[t, j]
    for c in range(out.size):
        out[c] = sums[c]


@njit(parallel=True, cache=True)
def _add(a, b, y):
    for i in prange(a.size):
        y[i] = a[i] + b[i]


@njit(parallel=True, cache=True)
def _add_relu(a, b, y):
    for i in prange(a.size):
        v = a[i] + b[i]
        y[i] = 0 if v < 0 else v


def _elementwise(kernel, *arrays):
    """A new array from ``kernel(*flat inputs, flat output)`` over inputs of one shape and dtype."""
    out = np.empty(arrays[0].shape, arrays[0].dtype)
    kernel(*(np.ascontiguousarray(a).reshape(-1) for a in arrays), out.reshape(-1))
    return out


def add(a, b):
    """a + b on numba's threads when a and b have one shape and dtype (NumPy's is single-threaded: ResNet-20's
    gradient sums at its skip connections, up to 8 MB each)."""
    if not same_float(a, b) or a.shape != b.shape:
        return reference.add(a, b)
    return _elementwise(_add, a, b)


def add_relu_forward(a, b):
    if not same_float(a, b) or a.shape != b.shape:
        return reference.add_relu_forward(a, b)
    return _elementwise(_add_relu, a, b)


def relu_forward(x):
    if not same_float(x):
        return reference.relu_forward(x)
    return _elementwise(_relu, x)


def bias_relu_backward(gy, y):
    """One pass for relu's gradient and its per-channel sum (NumPy's column sum of an (M, 6) array alone
    took 1.8 ms of LeNet-5's 24 ms step)."""
    if not same_float(gy, y) or gy.shape != y.shape or gy.ndim < 1:
        return reference.bias_relu_backward(gy, y)
    channels = gy.shape[-1]
    lanes = channels * max(1, LANES // channels)
    gx, gb = np.empty(gy.shape, gy.dtype), np.empty(channels, gy.dtype)
    partial = np.empty((numba.get_num_threads(), lanes), np.float64)
    _bias_relu_backward(np.ascontiguousarray(gy).reshape(-1), np.ascontiguousarray(y).reshape(-1), gx.reshape(-1),
                        partial)
    _lane_sums(partial, gb)
    return gx, gb


def bias_relu_forward(x, bias):
    if not _fits(x, bias):
        return reference.bias_relu_forward(x, bias)
    (x2,) = _channels(x)
    y = np.empty_like(x2)
    _bias_relu(x2, np.ascontiguousarray(bias), y)
    return y.reshape(x.shape)


def relu_backward(gy, y):
    if not same_float(gy, y) or gy.shape != y.shape:
        return reference.relu_backward(gy, y)
    return _elementwise(_relu_backward, gy, y)


@njit(cache=True)
def _softmax_row(z, p):
    """p = softmax(z) for one row; returns (sum of exp(z - max z), max z), the sum in float64."""
    top = z.max()
    total = 0.0
    for j in range(z.size):
        p[j] = np.exp(z[j] - top)
        total += p[j]
    for j in range(z.size):
        p[j] /= total
    return total, top


@njit(parallel=True, cache=True)
def _softmax(x, y):
    for r in prange(x.shape[0]):
        _softmax_row(x[r], y[r])


@njit(parallel=True, cache=True)
def _softmax_cross_entropy(logits, labels, loss, probabilities):
    """Returns how many labels are outside [0, classes); their rows' loss is NaN."""
    bad = 0
    for r in prange(logits.shape[0]):
        total, top = _softmax_row(logits[r], probabilities[r])
        label = labels[r]
        if 0 <= label < logits.shape[1]:
            loss[r] = np.log(total) - (logits[r, label] - top)
        else:
            loss[r] = np.nan
            bad += 1
    return bad


@njit(parallel=True, cache=True)
def _softmax_cross_entropy_grad(probabilities, labels, g_loss, grad):
    """Returns how many labels are outside [0, classes); their rows are NaN."""
    bad = 0
    for r in prange(probabilities.shape[0]):
        label = labels[r]
        valid = 0 <= label < probabilities.shape[1]
        bad += 0 if valid else 1
        for j in range(probabilities.shape[1]):
            p = probabilities[r, j] if valid else np.nan
            if j == label:
                p -= 1
            grad[r, j] = p * g_loss[r]
    return bad


def _integer(labels):
    labels = np.ascontiguousarray(labels)
    return labels if labels.dtype.kind in "iu" else labels.astype(np.int64)


def _check_labels(bad, labels, classes):
    """The kernels range-check the labels as they read them (no extra passes); here is the error."""
    if bad:
        raise reference.label_range_error(labels, classes)


def softmax_forward(x):
    """Softmax over the last axis, one row per loop iteration (NumPy's five passes over a (128, 10) batch
    took ~18 us, the max along the short axis half of it)."""
    if not same_float(x) or x.ndim < 1 or x.size == 0:
        return reference.softmax_forward(x)
    x2 = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    y = np.empty_like(x2)
    _softmax(x2, y)
    return y.reshape(x.shape)


def softmax_cross_entropy_forward(logits, labels):
    if not same_float(logits) or logits.ndim != 2:
        return reference.softmax_cross_entropy_forward(logits, labels)
    logits = np.ascontiguousarray(logits)
    loss, probabilities = np.empty(logits.shape[0], logits.dtype), np.empty_like(logits)
    labels = _integer(labels)
    _check_labels(_softmax_cross_entropy(logits, labels, loss, probabilities), labels, logits.shape[1])
    return loss, probabilities


def softmax_cross_entropy_backward(probabilities, labels, g_loss):
    if not same_float(probabilities, g_loss) or probabilities.ndim != 2:
        return reference.softmax_cross_entropy_backward(probabilities, labels, g_loss)
    grad = np.empty(probabilities.shape, probabilities.dtype)
    labels = _integer(labels)
    bad = _softmax_cross_entropy_grad(np.ascontiguousarray(probabilities), labels, np.ascontiguousarray(g_loss), grad)
    _check_labels(bad, labels, probabilities.shape[1])
    return grad


KERNELS = {
    **cpu_conv.KERNELS,
    **cpu_pool.KERNELS,
    **cpu_optim.KERNELS,
    **cpu_batchnorm.KERNELS,
    **({"matmul": cpu_blas.matmul, "dense_forward": cpu_blas.dense_forward, "dense_backward": cpu_blas.dense_backward}
       if cpu_blas.available() else {}),
    "relu_forward": relu_forward,
    "bias_relu_forward": bias_relu_forward,
    "add": add,
    "add_relu_forward": add_relu_forward,
    "relu_backward": relu_backward,
    "bias_relu_backward": bias_relu_backward,
    "softmax_forward": softmax_forward,
    "softmax_cross_entropy_forward": softmax_cross_entropy_forward,
    "softmax_cross_entropy_backward": softmax_cross_entropy_backward,
}
