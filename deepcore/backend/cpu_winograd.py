"""Winograd F(2x2, 3x3) for 3x3, stride-1 convolutions: 2.25x fewer multiplies than im2col.

Lavin & Gray 2015, "Fast Algorithms for Convolutional Neural Networks". The
output is cut into 2x2 tiles ``t = (n, th, tw)``; tile t reads the 4x4 input
patch ``d`` at ``(2*th - top, 2*tw - left)`` (zero outside x). With the
16 transformed points xi of a 4x4 tile:

    V[xi, t, c] = (B^T d B)[xi]      U[xi, c, o] = (G g G^T)[xi]
    M[xi] = V[xi] @ U[xi]            (16 GEMMs, (tiles, C) @ (C, out))
    y tile = A^T M A                 (2x2, cropped at the image edge)

The filter gradient is that formula differentiated: ``dM = A dy A^T`` per
tile, ``dU[xi] = V[xi]^T @ dM[xi]`` summed over tiles, ``dg = G^T dU G``.
Threads take chunks of tiles, as in ``cpu_conv``, each with its own buffers
and single-threaded GEMMs.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .cpu_support import scratch

MIN_CHANNELS = 32
TILE_WORK = 8192  # tiles per chunk times channels: V chunks of 512 KiB (float32) or less

G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def filter_transform(w):
    """U (16, C, out) = G g G^T for each (c, out) of w (3, 3, C, out), in w's dtype."""
    u = np.einsum("ai,ijco,bj->abco", G, w.astype(np.float64), G)
    return np.ascontiguousarray(u.reshape(16, *w.shape[2:]).astype(w.dtype))


def filter_gradient(du, dtype):
    """dg (3, 3, C, out) = G^T dU G, from dU (16, C, out)."""
    return np.einsum("ai,abco,bj->ijco", G, du.reshape(4, 4, *du.shape[1:]).astype(np.float64), G).astype(dtype)


@njit(cache=True)
def _tile_origin(tile, tiles_h, tiles_w):
    """(image, first output row, first output column) of tile number ``tile``."""
    n, rest = tile // (tiles_h * tiles_w), tile % (tiles_h * tiles_w)
    return n, 2 * (rest // tiles_w), 2 * (rest % tiles_w)


@njit(cache=True)
def _input_tiles(x, channels, v, patch, first, count, top, left, tiles_h, tiles_w):
    """v[xi, t*C : (t+1)*C] = (B^T d B)[xi] for tiles first..first + count; ``patch`` (16, C) is scratch.

    Loops run over 1-D slices, which numba vectorizes (see ``cpu_conv._im2col_line``).
    """
    h, w = x.shape[1], x.shape[2] // channels
    for t in range(count):
        n, oh, ow = _tile_origin(first + t, tiles_h, tiles_w)
        for r in range(4):  # d, zero-padded: patch[4r + s] = x[n, oh - top + r, ow - left + s]
            ih = oh - top + r
            for s in range(4):
                iw = ow - left + s
                dst = patch[4 * r + s]
                if 0 <= ih < h and 0 <= iw < w:
                    src = x[n, ih, iw * channels:(iw + 1) * channels]
                    for c in range(channels):
                        dst[c] = src[c]
                else:
                    for c in range(channels):
                        dst[c] = 0
        for s in range(4):  # rows of B^T d: (d0 - d2, d1 + d2, d2 - d1, d1 - d3), in place
            d0, d1, d2, d3 = patch[s], patch[4 + s], patch[8 + s], patch[12 + s]
            for c in range(channels):
                a0, a1, a2, a3 = d0[c], d1[c], d2[c], d3[c]
                d0[c], d1[c], d2[c], d3[c] = a0 - a2, a1 + a2, a2 - a1, a1 - a3
        k = t * channels
        for r in range(4):  # columns: (.) B
            q0, q1, q2, q3 = patch[4 * r], patch[4 * r + 1], patch[4 * r + 2], patch[4 * r + 3]
            v0, v1 = v[4 * r, k:k + channels], v[4 * r + 1, k:k + channels]
            v2, v3 = v[4 * r + 2, k:k + channels], v[4 * r + 3, k:k + channels]
            for c in range(channels):
                v0[c], v1[c], v2[c], v3[c] = q0[c] - q2[c], q1[c] + q2[c], q2[c] - q1[c], q1[c] - q3[c]


@njit(cache=True)
def _a_transpose(p0, p1, p2, p3, row):
    """Row ``row`` of A^T = [[1, 1, 1, 0], [0, 1, -1, -1]] applied to (p0, p1, p2, p3)."""
    return p0 + p1 + p2 if row == 0 else p1 - p2 - p3


@njit(cache=True)
def _output_tiles(m, y, first, count, tiles_h, tiles_w):
    """y tile = A^T m A (m[4*r + s, t*out + o] is point (r, s) of tile t), cropped to y (N, H, W, out)."""
    out_h, out_w, outs = y.shape[1], y.shape[2], y.shape[3]
    for t in range(count):
        n, oh, ow = _tile_origin(first + t, tiles_h, tiles_w)
        for a in range(min(2, out_h - oh)):
            for b in range(min(2, out_w - ow)):
                dst = y[n, oh + a, ow + b]
                for o in range(outs):
                    k = t * outs + o
                    r0 = _a_transpose(m[0, k], m[1, k], m[2, k], m[3, k], b)
                    r1 = _a_transpose(m[4, k], m[5, k], m[6, k], m[7, k], b)
                    r2 = _a_transpose(m[8, k], m[9, k], m[10, k], m[11, k], b)
                    r3 = _a_transpose(m[12, k], m[13, k], m[14, k], m[15, k], b)
                    dst[o] = _a_transpose(r0, r1, r2, r3, a)


@njit(cache=True)
def _gradient_tiles(gy, dm, patch, first, count, tiles_h, tiles_w):
    """dm[:, t*out : (t+1)*out] = A g A^T, A = [[1, 0], [1, 1], [1, -1], [0, -1]], for the 2x2 tiles g of
    gy (N, H, W, out), zero past its edge; ``patch`` (6, 2, out) is scratch: g, then the rows of A g."""
    out_h, out_w, outs = gy.shape[1], gy.shape[2], gy.shape[3]
    for t in range(count):
        n, oh, ow = _tile_origin(first + t, tiles_h, tiles_w)
        for a in range(2):
            for b in range(2):
                dst = patch[a, b]
                if oh + a < out_h and ow + b < out_w:
                    src = gy[n, oh + a, ow + b]
                    for o in range(outs):
                        dst[o] = src[o]
                else:
                    for o in range(outs):
                        dst[o] = 0
        for b in range(2):  # rows of A g: g0, g0 + g1, g0 - g1, -g1
            g0, g1 = patch[0, b], patch[1, b]
            r0, r1, r2, r3 = patch[2, b], patch[3, b], patch[4, b], patch[5, b]
            for o in range(outs):
                r0[o], r1[o], r2[o], r3[o] = g0[o], g0[o] + g1[o], g0[o] - g1[o], -g1[o]
        k = t * outs
        for r in range(4):  # (p, q) A^T = (p, p + q, p - q, -q)
            p, q = patch[2 + r, 0], patch[2 + r, 1]
            d0, d1, d2, d3 = dm[4 * r, k:k + outs], dm[4 * r + 1, k:k + outs], dm[4 * r + 2, k:k + outs], \
                dm[4 * r + 3, k:k + outs]
            for o in range(outs):
                d0[o], d1[o], d2[o], d3[o] = p[o], p[o] + q[o], p[o] - q[o], -q[o]


@njit(parallel=True, cache=True)
def _forward(x, channels, u, y, v, m, patches, tiles_per_chunk, top, left, tiles_h, tiles_w):
    """y = conv(x, g) from U = filter_transform(g); per thread: v (16, >= tiles*C), m (16, >= tiles*out)
    and patches (4, 4, C)."""
    tiles = x.shape[0] * tiles_h * tiles_w
    chunks = (tiles + tiles_per_chunk - 1) // tiles_per_chunk
    threads, outs = v.shape[0], u.shape[2]
    for thread in prange(threads):
        vt, mt = v[thread], m[thread]
        for chunk in range(thread, chunks, threads):
            first = chunk * tiles_per_chunk
            count = min(tiles_per_chunk, tiles - first)
            _input_tiles(x, channels, vt, patches[thread], first, count, top, left, tiles_h, tiles_w)
            for xi in range(16):
                np.dot(vt[xi, :count * channels].reshape(count, channels), u[xi],
                       mt[xi, :count * outs].reshape(count, outs))
            _output_tiles(mt, y, first, count, tiles_h, tiles_w)


@njit(parallel=True, cache=True)
def _filter_grad(x, channels, gy, partial, v, m, patches, gy_patches, tiles_per_chunk, top, left, tiles_h, tiles_w):
    """partial[thread] = dU summed over that thread's tiles; the caller adds the threads' sums."""
    tiles = x.shape[0] * tiles_h * tiles_w
    chunks = (tiles + tiles_per_chunk - 1) // tiles_per_chunk
    threads, outs = v.shape[0], gy.shape[3]
    for thread in prange(threads):
        vt, mt = v[thread], m[thread]
        product = np.empty_like(partial[thread, 0])
        partial[thread] = 0
        for chunk in range(thread, chunks, threads):
            first = chunk * tiles_per_chunk
            count = min(tiles_per_chunk, tiles - first)
            _input_tiles(x, channels, vt, patches[thread], first, count, top, left, tiles_h, tiles_w)
            _gradient_tiles(gy, mt, gy_patches[thread], first, count, tiles_h, tiles_w)
            for xi in range(16):
                vx = vt[xi, :count * channels].reshape(count, channels)
                np.dot(vx.T, mt[xi, :count * outs].reshape(count, outs), product)
                partial[thread, xi] += product


def applies(w_shape, stride, dilation):
    """3x3, stride 1, undilated, and wide enough that the 16 small GEMMs beat one im2col GEMM (measured:
    32 channels 1.6x faster, 16 channels no faster)."""
    return (tuple(w_shape[:2]) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and min(w_shape[2:]) >= MIN_CHANNELS)


def _tiling(x_shape, out_hw, channels, outs, threads):
    """(tiles along H, tiles along W, tiles per chunk): chunks of about TILE_WORK / channels tiles."""
    tiles_h, tiles_w = -(-out_hw[0] // 2), -(-out_hw[1] // 2)
    per_chunk = max(1, min(TILE_WORK // max(channels, outs), -(-x_shape[0] * tiles_h * tiles_w // threads)))
    return tiles_h, tiles_w, per_chunk


def _buffers(threads, per_chunk, channels, outs, dtype):
    """Per-thread V and M: (16, tiles * C + pad), the pad keeping the 16 rows off 4 KiB aliasing (10x slower)."""
    pad = 64 // np.dtype(dtype).itemsize
    return (scratch("winograd_v", (threads, 16, per_chunk * channels + pad), dtype),
            scratch("winograd_m", (threads, 16, per_chunk * outs + pad), dtype),
            scratch("winograd_patch", (threads, 16, channels), dtype),
            scratch("winograd_gradient_patch", (threads, 6, 2, outs), dtype))


def forward(x, w, top_left, y, threads):
    """y (N, H', W', out) = conv(x, w) for a 3x3 w, stride 1, padding implied by (top, left) and y's size."""
    n, h, width, c = x.shape
    tiles_h, tiles_w, per_chunk = _tiling(x.shape, y.shape[1:3], c, y.shape[3], threads)
    v, m, patches, _ = _buffers(threads, per_chunk, c, y.shape[3], x.dtype)
    _forward(x.reshape(n, h, width * c), c, filter_transform(w), y, v, m, patches, per_chunk, *top_left,
             tiles_h, tiles_w)


def filter_grad(x, gy, top_left, threads):
    """The gradient (3, 3, C, out) of the filters of that convolution, from gy (N, H', W', out)."""
    n, h, width, c = x.shape
    outs = gy.shape[3]
    tiles_h, tiles_w, per_chunk = _tiling(x.shape, gy.shape[1:3], c, outs, threads)
    v, m, patches, gy_patches = _buffers(threads, per_chunk, c, outs, x.dtype)
    partial = np.empty((threads, 16, c, outs), x.dtype)
    _filter_grad(x.reshape(n, h, width * c), c, gy, partial, v, m, patches, gy_patches, per_chunk, *top_left,
                 tiles_h, tiles_w)
    return filter_gradient(partial.sum(axis=0), x.dtype)
