"""Fast CPU max and average pooling 2-D (NHWC), numba loops parallel over lines.

Same signatures and results as ``reference.maxpool2d_*`` / ``avgpool2d_*``:
argmax is the flat window offset ``i * pool_w + j`` of the first maximum,
and averages count only the real (unpadded) pixels of each window. The
backward passes gather: each input line collects the gradients of the
windows that cover it, so no two threads write the same pixel even when
windows overlap.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import reference
from .cpu_support import numba_threads, same_float


@njit(cache=True)
def _covering(index, pad_before, pool, stride, out_size):
    """(first, last + 1) of the windows along one axis that contain input position ``index``."""
    reach = index + pad_before
    return max(0, -((pool - 1 - reach) // stride)), min(out_size, reach // stride + 1)


@njit(parallel=True, cache=True)
def _maxpool_forward(x, y, argmax, ph, pw, sh, sw, top, left):
    h, w, channels = x.shape[1], x.shape[2], x.shape[3]
    out_h, out_w = y.shape[1], y.shape[2]
    for line in prange(x.shape[0] * out_h):
        n, oh = line // out_h, line % out_h
        for ow in range(out_w):
            best, arg = y[n, oh, ow], argmax[n, oh, ow]
            best[:] = -np.inf
            arg[:] = 0
            for i in range(ph):
                ih = oh * sh - top + i
                if ih < 0 or ih >= h:
                    continue
                for j in range(pw):
                    iw = ow * sw - left + j
                    if iw < 0 or iw >= w:
                        continue
                    src, offset = x[n, ih, iw], i * pw + j
                    for c in range(channels):  # selects, not branches: the loop vectorizes
                        better = src[c] > best[c]
                        best[c] = src[c] if better else best[c]
                        arg[c] = offset if better else arg[c]


@njit(parallel=True, cache=True)
def _maxpool_backward(gy, argmax, gx, ph, pw, sh, sw, top, left):
    h, w, channels = gx.shape[1], gx.shape[2], gx.shape[3]
    out_h, out_w = gy.shape[1], gy.shape[2]
    for line in prange(gx.shape[0] * h):
        n, ih = line // h, line % h
        dst = gx[n, ih]
        dst[:] = 0
        oh0, oh1 = _covering(ih, top, ph, sh, out_h)
        for oh in range(oh0, oh1):
            i = ih + top - oh * sh
            for iw in range(w):
                ow0, ow1 = _covering(iw, left, pw, sw, out_w)
                for ow in range(ow0, ow1):
                    offset = i * pw + iw + left - ow * sw
                    arg, g = argmax[n, oh, ow], gy[n, oh, ow]
                    for c in range(channels):
                        total = dst[iw, c]
                        dst[iw, c] = total + g[c] if arg[c] == offset else total


@njit(cache=True)
def _real_span(o, pool, stride, pad_before, size):
    """(first, last + 1) of the unpadded input positions in window ``o`` along one axis."""
    start = o * stride - pad_before
    return max(start, 0), min(start + pool, size)


@njit(parallel=True, cache=True, error_model="numpy")
def _avgpool_forward(x, y, ph, pw, sh, sw, top, left):
    h, w, channels = x.shape[1], x.shape[2], x.shape[3]
    out_h, out_w = y.shape[1], y.shape[2]
    for line in prange(x.shape[0] * out_h):
        n, oh = line // out_h, line % out_h
        ih0, ih1 = _real_span(oh, ph, sh, top, h)
        for ow in range(out_w):
            iw0, iw1 = _real_span(ow, pw, sw, left, w)
            total = y[n, oh, ow]
            total[:] = 0
            for ih in range(ih0, ih1):
                for iw in range(iw0, iw1):
                    src = x[n, ih, iw]
                    for c in range(channels):
                        total[c] += src[c]
            count = (ih1 - ih0) * (iw1 - iw0)
            for c in range(channels):
                total[c] = total[c] / count


@njit(parallel=True, cache=True, error_model="numpy")
def _avgpool_backward(gy, gx, ph, pw, sh, sw, top, left):
    h, w, channels = gx.shape[1], gx.shape[2], gx.shape[3]
    out_h, out_w = gy.shape[1], gy.shape[2]
    for line in prange(gx.shape[0] * h):
        n, ih = line // h, line % h
        dst = gx[n, ih]
        dst[:] = 0
        oh0, oh1 = _covering(ih, top, ph, sh, out_h)
        for oh in range(oh0, oh1):
            ih0, ih1 = _real_span(oh, ph, sh, top, h)
            for iw in range(w):
                ow0, ow1 = _covering(iw, left, pw, sw, out_w)
                for ow in range(ow0, ow1):
                    iw0, iw1 = _real_span(ow, pw, sw, left, w)
                    count = (ih1 - ih0) * (iw1 - iw0)
                    g = gy[n, oh, ow]
                    for c in range(channels):
                        dst[iw, c] += g[c] / count


def _output_shape(x_shape, pool, stride, padding):
    return (x_shape[0],) + tuple(reference.conv_output_size(x_shape[1 + a], pool[a], stride[a], *padding[a])
                                 for a in range(2)) + (x_shape[3],)


def _window_args(pool, stride, padding):
    return (*pool, *stride, padding[0][0], padding[1][0])


def maxpool2d_forward(x, pool, stride, padding):
    if not same_float(x):
        return reference.maxpool2d_forward(x, pool, stride, padding)
    shape = _output_shape(x.shape, pool, stride, padding)
    y, argmax = np.empty(shape, x.dtype), np.empty(shape, np.int32)
    with numba_threads(x.size):
        _maxpool_forward(np.ascontiguousarray(x), y, argmax, *_window_args(pool, stride, padding))
    return y, argmax


def maxpool2d_backward(gy, argmax, x_shape, pool, stride, padding):
    if not same_float(gy):
        return reference.maxpool2d_backward(gy, argmax, x_shape, pool, stride, padding)
    gx = np.empty(x_shape, gy.dtype)
    with numba_threads(gx.size):
        _maxpool_backward(np.ascontiguousarray(gy), np.ascontiguousarray(argmax, dtype=np.int32), gx,
                          *_window_args(pool, stride, padding))
    return gx


def avgpool2d_forward(x, pool, stride, padding):
    if not same_float(x):
        return reference.avgpool2d_forward(x, pool, stride, padding)
    y = np.empty(_output_shape(x.shape, pool, stride, padding), x.dtype)
    with numba_threads(x.size):
        _avgpool_forward(np.ascontiguousarray(x), y, *_window_args(pool, stride, padding))
    return y


def avgpool2d_backward(gy, x_shape, pool, stride, padding):
    if not same_float(gy):
        return reference.avgpool2d_backward(gy, x_shape, pool, stride, padding)
    gx = np.empty(x_shape, gy.dtype)
    with numba_threads(gx.size):
        _avgpool_backward(np.ascontiguousarray(gy), gx, *_window_args(pool, stride, padding))
    return gx


KERNELS = {
    "maxpool2d_forward": maxpool2d_forward,
    "maxpool2d_backward": maxpool2d_backward,
    "avgpool2d_forward": avgpool2d_forward,
    "avgpool2d_backward": avgpool2d_backward,
}
