"""Fast CPU kernels: NumPy BLAS GEMMs and numba parallel loops.

Each function has the signature of its namesake in ``reference.py`` and is
tested against it (``tests/backend/test_cpu_kernels.py``). ``KERNELS`` maps
kernel names to the versions here, convolution's from ``cpu_conv.py`` and
pooling's from ``cpu_pool.py``. The numba kernels are built for float32 and
float64 (the dtype in is the dtype out); anything else runs the reference.
Per-channel statistics are accumulated in float64.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import cpu_blas, cpu_conv, cpu_pool, reference
from .cpu_support import numba_threads, same_float


@njit(parallel=True, cache=True)
def _column_moments(u, u_center, v, v_center, threads):
    """(sum(u - u_center), sum((u - u_center) * (v - v_center))) over the rows of (M, C) arrays, in float64.

    Each of ``threads`` blocks of rows sums into its own row of ``partial``.
    """
    rows, channels = u.shape
    partial = np.zeros((threads, 2, channels))
    for t in prange(threads):
        first, sum_u, sum_uv = rows * t // threads, partial[t, 0], partial[t, 1]
        for r in range(first, rows * (t + 1) // threads):
            for c in range(channels):
                du = np.float64(u[r, c]) - u_center[c]
                sum_u[c] += du
                sum_uv[c] += du * (np.float64(v[r, c]) - v_center[c])
    return partial.sum(axis=0)


@njit(parallel=True, cache=True)
def _normalize(x, center, scale, offset, y):
    """y = (x - center) * scale + offset per channel, on (M, C) arrays."""
    for r in prange(x.shape[0]):
        for c in range(x.shape[1]):
            y[r, c] = (x[r, c] - center[c]) * scale[c] + offset[c]


@njit(parallel=True, cache=True)
def _batchnorm_input_grad(gy, gy_mean, x, mean, x_scale, scale, gx):
    """gx = (gy - gy_mean - (x - mean) * x_scale) * scale per channel, on (M, C) arrays."""
    for r in prange(x.shape[0]):
        for c in range(x.shape[1]):
            gx[r, c] = (gy[r, c] - gy_mean[c] - (x[r, c] - mean[c]) * x_scale[c]) * scale[c]


def _channels(*arrays):
    """C-contiguous (M, C) views of channels-last arrays."""
    return [np.ascontiguousarray(a).reshape(-1, a.shape[-1]) for a in arrays]


def _fits(x, *vectors):
    """x and the per-channel vectors share a numba dtype, and each vector has one entry per channel."""
    return same_float(x, *vectors) and x.ndim >= 1 and all(v.shape == x.shape[-1:] for v in vectors)


def batchnorm_forward_train(x, gamma, beta, epsilon):
    """Moments from sums shifted by the first sample (no cancellation), accumulated in float64."""
    if not _fits(x, gamma, beta) or x.size == 0:
        return reference.batchnorm_forward_train(x, gamma, beta, epsilon)
    (x2,) = _channels(x)
    shift = x2[0].astype(np.float64)
    m = x2.shape[0]
    y = np.empty_like(x2)
    with numba_threads(x2.size) as threads:
        sums = _column_moments(x2, shift, x2, shift, threads)
        mean64 = sums[0] / m
        variance64 = np.maximum(sums[1] / m - mean64 * mean64, 0.0)
        mean, variance = (shift + mean64).astype(x.dtype), variance64.astype(x.dtype)
        inv_std = (1.0 / np.sqrt(variance64 + epsilon)).astype(x.dtype)
        _normalize(x2, mean, inv_std * gamma, np.ascontiguousarray(beta), y)
    return y.reshape(x.shape), mean, variance, inv_std


def batchnorm_forward_infer(x, gamma, beta, mean, variance, epsilon):
    if not _fits(x, gamma, beta, mean, variance):
        return reference.batchnorm_forward_infer(x, gamma, beta, mean, variance, epsilon)
    (x2,) = _channels(x)
    scale = (gamma / np.sqrt(variance + epsilon)).astype(x.dtype)
    y = np.empty_like(x2)
    with numba_threads(x2.size):
        _normalize(x2, np.ascontiguousarray(mean), scale, np.ascontiguousarray(beta), y)
    return y.reshape(x.shape)


def batchnorm_backward(gy, x, gamma, mean, inv_std):
    """gx = gamma * inv_std * (gy - gbeta / m - (x - mean) * inv_std * ggamma / m): the reference's formula,
    with the cancelling terms subtracted before the scaling."""
    if not (_fits(x, gamma, mean, inv_std) and same_float(x, gy) and gy.shape == x.shape):
        return reference.batchnorm_backward(gy, x, gamma, mean, inv_std)
    gy2, x2 = _channels(gy, x)
    m = x2.shape[0]
    mean = np.ascontiguousarray(mean)
    gx = np.empty_like(x2)
    with numba_threads(x2.size) as threads:
        sums = _column_moments(gy2, np.zeros(mean.shape), x2, mean.astype(np.float64), threads)
        gbeta, ggamma = sums[0], sums[1] * inv_std
        _batchnorm_input_grad(gy2, (gbeta / m).astype(x.dtype), x2, mean, (inv_std * ggamma / m).astype(x.dtype),
                              gamma * inv_std, gx)
    return gx.reshape(x.shape), ggamma.astype(x.dtype), gbeta.astype(x.dtype)


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
    """gx = gy where y > 0 (else gy * 0), and partial[t] = thread t's column sums of gx, on (M, C) arrays."""
    rows, threads = gy.shape[0], partial.shape[0]
    for t in prange(threads):
        total = partial[t]
        total[:] = 0
        for r in range(rows * t // threads, rows * (t + 1) // threads):
            for c in range(gy.shape[1]):
                g = gy[r, c] if y[r, c] > 0 else gy[r, c] * 0
                gx[r, c] = g
                total[c] += g


def relu_forward(x):
    if not same_float(x):
        return reference.relu_forward(x)
    y = np.empty(x.shape, x.dtype)
    with numba_threads(x.size):
        _relu(np.ascontiguousarray(x).reshape(-1), y.reshape(-1))
    return y


def bias_relu_backward(gy, y):
    """One pass for relu's gradient and its per-channel sum (NumPy's column sum of an (M, 6) array alone
    took 1.8 ms of LeNet-5's 24 ms step)."""
    if not same_float(gy, y) or gy.shape != y.shape or gy.ndim < 1:
        return reference.bias_relu_backward(gy, y)
    gy2, y2 = _channels(gy, y)
    gx = np.empty_like(gy2)
    with numba_threads(gy2.size) as threads:
        partial = np.empty((threads, gy2.shape[1]), np.float64)
        _bias_relu_backward(gy2, y2, gx, partial)
    return gx.reshape(gy.shape), partial.sum(axis=0).astype(gy.dtype)


def bias_relu_forward(x, bias):
    if not _fits(x, bias):
        return reference.bias_relu_forward(x, bias)
    (x2,) = _channels(x)
    y = np.empty_like(x2)
    with numba_threads(x2.size):
        _bias_relu(x2, np.ascontiguousarray(bias), y)
    return y.reshape(x.shape)


def relu_backward(gy, y):
    if not same_float(gy, y) or gy.shape != y.shape:
        return reference.relu_backward(gy, y)
    gx = np.empty(gy.shape, gy.dtype)
    with numba_threads(gx.size):
        _relu_backward(np.ascontiguousarray(gy).reshape(-1), np.ascontiguousarray(y).reshape(-1), gx.reshape(-1))
    return gx


@njit(parallel=True, cache=True)
def _softmax_cross_entropy(logits, labels, loss, probabilities):
    for r in prange(logits.shape[0]):
        row, p = logits[r], probabilities[r]
        top = row.max()
        total = 0.0
        for j in range(row.size):
            p[j] = np.exp(row[j] - top)
            total += p[j]
        for j in range(row.size):
            p[j] /= total
        loss[r] = np.log(total) - (row[labels[r]] - top)


@njit(parallel=True, cache=True)
def _softmax_cross_entropy_grad(probabilities, labels, g_loss, grad):
    for r in prange(probabilities.shape[0]):
        for j in range(probabilities.shape[1]):
            p = probabilities[r, j]
            if j == labels[r]:
                p -= 1
            grad[r, j] = p * g_loss[r]


def _label_indices(labels, classes):
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"softmax cross-entropy: labels must be in [0, {classes}), "
                         f"got values in [{labels.min()}, {labels.max()}]")
    return labels


def softmax_cross_entropy_forward(logits, labels):
    if not same_float(logits) or logits.ndim != 2:
        return reference.softmax_cross_entropy_forward(logits, labels)
    logits = np.ascontiguousarray(logits)
    loss, probabilities = np.empty(logits.shape[0], logits.dtype), np.empty_like(logits)
    with numba_threads(logits.size):
        _softmax_cross_entropy(logits, _label_indices(labels, logits.shape[1]), loss, probabilities)
    return loss, probabilities


def softmax_cross_entropy_backward(probabilities, labels, g_loss):
    if not same_float(probabilities, g_loss) or probabilities.ndim != 2:
        return reference.softmax_cross_entropy_backward(probabilities, labels, g_loss)
    grad = np.empty(probabilities.shape, probabilities.dtype)
    with numba_threads(grad.size):
        _softmax_cross_entropy_grad(np.ascontiguousarray(probabilities),
                                    _label_indices(labels, probabilities.shape[1]), np.ascontiguousarray(g_loss), grad)
    return grad


KERNELS = {
    **cpu_conv.KERNELS,
    **cpu_pool.KERNELS,
    **({"matmul": cpu_blas.matmul} if cpu_blas.available() else {}),
    "batchnorm_forward_train": batchnorm_forward_train,
    "batchnorm_forward_infer": batchnorm_forward_infer,
    "batchnorm_backward": batchnorm_backward,
    "relu_forward": relu_forward,
    "bias_relu_forward": bias_relu_forward,
    "relu_backward": relu_backward,
    "bias_relu_backward": bias_relu_backward,
    "softmax_cross_entropy_forward": softmax_cross_entropy_forward,
    "softmax_cross_entropy_backward": softmax_cross_entropy_backward,
}
