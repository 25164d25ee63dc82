"""Batch normalization (and BatchNorm+ReLU) on the CPU: numba loops over channels-last data.

The data is seen as (rows, channels), the channel fastest. Per-channel sums are
accumulated in float64 (over partial sums of FLUSH blocks in the input's dtype)
from values shifted by a per-channel center (the first row in the forward pass,
the mean in the backward), so nothing cancels.

Each pass is memory-bound (a ResNet-20 activation is 8 MB), so the code is
about keeping the loops vectorized:

- the sums run over blocks of ``_lanes(channels)`` consecutive values (several
  whole rows, <= ``LANES``), each lane its own accumulator, so the
  inner loop is long and contiguous. Rows of 16 channels one at a time (the
  previous kernel) spent more time in loop overhead and alias checks than in
  arithmetic: on (128, 32, 32, 16) float32 the moments took 1.1 ms per call,
  then 0.5 ms, against 0.4 ms for ``x.sum()`` (one core). Each lane now sums
  FLUSH blocks in float32 before adding into its float64 total: 0.86 -> 0.38
  ms for those moments, 1.04 -> 0.65 ms for the masked backward sums (2
  cores), relative error ~2e-8 against exact sums.
- the elementwise passes (normalize, input gradient) go row by row: they
  already run at copy speed (0.62 ms for 8 MB in, 8 MB out).

The fused ReLU costs nothing extra: the forward clamps as it writes, and the
backward masks the incoming gradient with ``y > 0`` as it reads it (gy * 0
where masked, so a NaN gradient stays NaN, as ``reference.relu_backward``).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from . import reference
from .cpu_support import same_float

LANES = 256  # accumulator lanes of the per-channel sums; 64..512 measure the same (0.48-0.52 ms above)
FLUSH = 32  # blocks each lane sums in the input's dtype before adding into its float64 total


def _lanes(channels):
    """Lanes per block: whole rows, about LANES values."""
    return channels * max(1, LANES // channels)


@njit(parallel=True, cache=True)
def _channel_sums(u, u_center, v, v_center, mask, lanes, threads):
    """Per channel, in float64: sum(g) and sum(g * (v - v_center)) with g = u - u_center, and g = 0 * g
    where ``mask <= 0`` when a mask is given (None compiles the mask away). u, v, mask: flat (rows * C).
    Each lane sums FLUSH blocks in u's dtype, then adds that into its float64 total."""
    channels = u_center.size
    blocks = u.size // lanes
    partial = np.zeros((threads, 2, lanes))
    for t in prange(threads):
        sum_g, sum_gv = partial[t, 0], partial[t, 1]
        block_g, block_gv = np.zeros(lanes, u.dtype), np.zeros(lanes, u.dtype)
        u_c, v_c = np.empty(lanes, u.dtype), np.empty(lanes, u.dtype)
        for j in range(lanes):
            u_c[j], v_c[j] = u_center[j % channels], v_center[j % channels]
        first, last = blocks * t // threads, blocks * (t + 1) // threads
        for b in range(first, last):
            u_b, v_b = u[b * lanes:(b + 1) * lanes], v[b * lanes:(b + 1) * lanes]
            if mask is None:
                for j in range(lanes):
                    g = u_b[j] - u_c[j]
                    block_g[j] += g
                    block_gv[j] += g * (v_b[j] - v_c[j])
            else:
                m_b = mask[b * lanes:(b + 1) * lanes]
                for j in range(lanes):
                    g = u_b[j] - u_c[j]
                    g = g if m_b[j] > 0 else g * 0
                    block_g[j] += g
                    block_gv[j] += g * (v_b[j] - v_c[j])
            if (b - first) % FLUSH == FLUSH - 1 or b == last - 1:
                for j in range(lanes):
                    sum_g[j] += block_g[j]
                    sum_gv[j] += block_gv[j]
                    block_g[j], block_gv[j] = 0, 0
    sums = np.zeros((2, channels))
    for j in range(lanes):
        for t in range(threads):
            sums[0, j % channels] += partial[t, 0, j]
            sums[1, j % channels] += partial[t, 1, j]
    for i in range(blocks * lanes, u.size):  # the rows after the last whole block
        c = i % channels
        g = np.float64(u[i]) - u_center[c]
        if mask is not None:  # written apart: numba compiles away `is None` branches only when alone
            if not mask[i] > 0:
                g *= 0.0
        sums[0, c] += g
        sums[1, c] += g * (np.float64(v[i]) - v_center[c])
    return sums


@njit(parallel=True, cache=True)
def _normalize(x, center, scale, offset, relu, y):
    """y = (x - center) * scale + offset per channel, clamped at 0 when ``relu``; (rows, C) arrays."""
    for r in prange(x.shape[0]):
        for c in range(x.shape[1]):
            value = (x[r, c] - center[c]) * scale[c] + offset[c]
            y[r, c] = 0 if relu and value < 0 else value  # NaN passes, as np.maximum


@njit(parallel=True, cache=True)
def _input_grad(gy, mask, g_mean, x, mean, x_scale, scale, gx):
    """gx = (g - g_mean - (x - mean) * x_scale) * scale per channel, g = gy masked by ``mask > 0`` when given."""
    for r in prange(x.shape[0]):
        for c in range(x.shape[1]):
            g = gy[r, c]
            if mask is not None:
                if not mask[r, c] > 0:
                    g = g * 0
            gx[r, c] = (g - g_mean[c] - (x[r, c] - mean[c]) * x_scale[c]) * scale[c]


def _rows(a):
    """A C-contiguous (rows, channels) view of a channels-last array."""
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


def _fits(x, *vectors):
    """x and the per-channel vectors share a numba dtype, and each vector has one entry per channel."""
    return same_float(x, *vectors) and x.ndim >= 1 and x.size > 0 and all(v.shape == x.shape[-1:] for v in vectors)


def _forward_train(x, gamma, beta, epsilon, relu):
    x2 = _rows(x)
    rows, channels = x2.shape
    shift = x2[0].astype(np.float64)
    y = np.empty_like(x2)
    threads = numba.get_num_threads()
    sums = _channel_sums(x2.reshape(-1), shift, x2.reshape(-1), shift, None, _lanes(channels), threads)
    mean64 = sums[0] / rows
    variance64 = np.maximum(sums[1] / rows - mean64 * mean64, 0.0)
    mean, variance = (shift + mean64).astype(x.dtype), variance64.astype(x.dtype)
    inv_std = (1.0 / np.sqrt(variance64 + epsilon)).astype(x.dtype)
    _normalize(x2, mean, inv_std * gamma, np.ascontiguousarray(beta), relu, y)
    return y.reshape(x.shape), mean, variance, inv_std


def _backward(gy, mask, x, gamma, mean, inv_std):
    """gx = gamma * inv_std * (g - gbeta / m - (x - mean) * inv_std * ggamma / m): the reference's formula,
    with the cancelling terms subtracted before the scaling."""
    gy2, x2 = _rows(gy), _rows(x)
    mask2 = None if mask is None else _rows(mask)
    rows, channels = x2.shape
    mean = np.ascontiguousarray(mean)
    gx = np.empty_like(x2)
    threads = numba.get_num_threads()
    sums = _channel_sums(gy2.reshape(-1), np.zeros(channels), x2.reshape(-1), mean.astype(np.float64),
                         None if mask2 is None else mask2.reshape(-1), _lanes(channels), threads)
    gbeta, ggamma = sums[0], sums[1] * inv_std
    _input_grad(gy2, mask2, (gbeta / rows).astype(x.dtype), x2, mean, (inv_std * ggamma / rows).astype(x.dtype),
                gamma * inv_std, gx)
    return gx.reshape(x.shape), ggamma.astype(x.dtype), gbeta.astype(x.dtype)


def _forward_infer(x, gamma, beta, mean, variance, epsilon, relu):
    x2 = _rows(x)
    scale = (gamma / np.sqrt(variance + epsilon)).astype(x.dtype)
    y = np.empty_like(x2)
    _normalize(x2, np.ascontiguousarray(mean), scale, np.ascontiguousarray(beta), relu, y)
    return y.reshape(x.shape)


def batchnorm_forward_train(x, gamma, beta, epsilon):
    if not _fits(x, gamma, beta):
        return reference.batchnorm_forward_train(x, gamma, beta, epsilon)
    return _forward_train(x, gamma, beta, epsilon, relu=False)


def batchnorm_relu_forward_train(x, gamma, beta, epsilon):
    if not _fits(x, gamma, beta):
        return reference.batchnorm_relu_forward_train(x, gamma, beta, epsilon)
    return _forward_train(x, gamma, beta, epsilon, relu=True)


def batchnorm_forward_infer(x, gamma, beta, mean, variance, epsilon):
    if not _fits(x, gamma, beta, mean, variance):
        return reference.batchnorm_forward_infer(x, gamma, beta, mean, variance, epsilon)
    return _forward_infer(x, gamma, beta, mean, variance, epsilon, relu=False)


def batchnorm_relu_forward_infer(x, gamma, beta, mean, variance, epsilon):
    if not _fits(x, gamma, beta, mean, variance):
        return reference.batchnorm_relu_forward_infer(x, gamma, beta, mean, variance, epsilon)
    return _forward_infer(x, gamma, beta, mean, variance, epsilon, relu=True)


def batchnorm_backward(gy, x, gamma, mean, inv_std):
    if not (_fits(x, gamma, mean, inv_std) and same_float(x, gy) and gy.shape == x.shape):
        return reference.batchnorm_backward(gy, x, gamma, mean, inv_std)
    return _backward(gy, None, x, gamma, mean, inv_std)


def batchnorm_relu_backward(gy, y, x, gamma, mean, inv_std):
    if not (_fits(x, gamma, mean, inv_std) and same_float(x, gy, y) and gy.shape == y.shape == x.shape):
        return reference.batchnorm_relu_backward(gy, y, x, gamma, mean, inv_std)
    return _backward(gy, y, x, gamma, mean, inv_std)


KERNELS = {
    "batchnorm_forward_train": batchnorm_forward_train,
    "batchnorm_forward_infer": batchnorm_forward_infer,
    "batchnorm_backward": batchnorm_backward,
    "batchnorm_relu_forward_train": batchnorm_relu_forward_train,
    "batchnorm_relu_forward_infer": batchnorm_relu_forward_infer,
    "batchnorm_relu_backward": batchnorm_relu_backward,
}
