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

Threads take chunks of whole tile rows (``(image, th)``, in order), each with
its own buffers and single-threaded GEMMs. The transforms run a tile row at a
time, vectorized across its tiles: every transformed point of a tile row is
one signed sum of a few runs of ``tiles_w * C`` contiguous floats
(``_signed_sum``, ``_combine2``, ``_combine3``), not a loop over one tile's C
channels, which numba leaves scalar when C is 16 (its vector loop wants 32+
iterations; the per-tile transforms this replaces took 6.6 ms of a 16-channel
forward pass for the input alone). For that, the input rows a chunk reads are
first copied into a zero-padded "slab" with even and odd columns apart
(``_fill_slab``): input column ``2*tw + s`` of tile ``tw`` is then element
``tw`` of a run that starts at column ``s // 2`` of part ``s % 2`` -- the same
offset for every tile. The output and the gradient's ``dy`` tiles go through
per-tile-row buffers the same way, copied from or to the image pixel by pixel.

Measured, one thread, CPU time, n128 32x32 16->16 'same' (ResNet-20's first
stage), per-tile-row vs the per-tile transforms (im2col below 32 channels):
forward 6.9 vs 7.7 ms, filter gradient 7.3 vs 7.9, data gradient 7.0 vs 7.6
(torch 2.13: 6.2, 5.9, 5.8). Of the forward, the 16 GEMMs take ~2.6 ms (OpenBLAS
on (256, 16) @ (16, 16)), reading x into the slabs ~0.6, the rest of the input
transform ~1.1, the output ~1.1. 32 and 64 channels: as fast as the per-tile
transforms (within 5%).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .cpu_blas import epilogue, gemm
from .cpu_support import scratch

MIN_CHANNELS = 16
MAX_CHANNELS = 256  # wider convs run cpu_conv's tap-row GEMMs (see applies)
TILE_WORK = 4096  # tiles per chunk times channels: V chunks of 256 KiB (float32) or less (2048-16384 measured: 4096 best or tied)

G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
# The transform matrices' nonzeros, as float32 (see ``_combine2``; float64 data stays float64):
# B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], row r as (column, column, second weight);
# A = [[1, 0], [1, 1], [1, -1], [0, -1]]; A^T's rows are (1, 1, 1, 0) and (0, 1, -1, -1).
ONE = np.float32(1.0)
BT = ((0, 2, -ONE), (1, 2, ONE), (2, 1, -ONE), (1, 3, -ONE))
A = ((ONE, np.float32(0.0)), (ONE, ONE), (ONE, -ONE), (np.float32(0.0), -ONE))


def filter_transform(w):
    """U (16, C, out) = G g G^T for each (c, out) of w (3, 3, C, out), in w's dtype."""
    u = np.einsum("ai,ijco,bj->abco", G, w.astype(np.float64), G)
    return np.ascontiguousarray(u.reshape(16, *w.shape[2:]).astype(w.dtype))


def filter_gradient(du, dtype):
    """dg (3, 3, C, out) = G^T dU G, from dU (16, C, out)."""
    return np.einsum("ai,abco,bj->ijco", G, du.reshape(4, 4, *du.shape[1:]).astype(np.float64), G).astype(dtype)


@njit(cache=True, inline='always')
def _combine2(dst, a, b, wa, wb):
    """dst = wa*a + wb*b elementwise. The transforms' passes are made of these few helpers, each a loop over a
    tile row with one destination and few sources, which numba vectorizes. Measured against alternatives:
    weights 0 or +-1 as float32 (exact; float64 weights made float32 loops compute in float64, 2x slower;
    a branch per sign pattern inside the loop over transform points, 2.3x slower); ``inline='always'``
    (as a call, numba's reference counting of the five array arguments cost 3x the 256-float loop)."""
    for k in range(dst.shape[0]):
        dst[k] = wa * a[k] + wb * b[k]


@njit(cache=True, inline='always')
def _combine3(dst, a, b, c, wa, wb, wc):
    """dst = wa*a + wb*b + wc*c elementwise (see ``_combine2``)."""
    for k in range(dst.shape[0]):
        dst[k] = wa * a[k] + wb * b[k] + wc * c[k]


@njit(cache=True, inline='always')
def _signed_sum(dst, a, b, c, d, sign_b, sign_c):
    """dst = a + sign_b*b + sign_c*(c + sign_b*d) elementwise, signs +-1: one loop of additions per sign pattern,
    chosen once per call (measured, ResNet-20's 16->16 input transform: 1.65 ms, vs 2.0 with float32 +-1 weights
    as in ``_combine2``)."""
    if sign_b > 0 and sign_c > 0:
        for k in range(dst.shape[0]):
            dst[k] = a[k] + b[k] + c[k] + d[k]
    elif sign_b > 0:
        for k in range(dst.shape[0]):
            dst[k] = a[k] + b[k] - c[k] - d[k]
    elif sign_c > 0:
        for k in range(dst.shape[0]):
            dst[k] = a[k] - b[k] + c[k] - d[k]
    else:
        for k in range(dst.shape[0]):
            dst[k] = a[k] - b[k] - c[k] + d[k]


@njit(cache=True)
def _fill_slab(x, channels, slab, n, row0, rows, left):
    """slab[r, p, j*C : (j+1)*C] = x[n, row0 + r, 2*j + p - left] (zero outside x), r < rows: the input rows
    with even and odd columns apart, so tile tw's column s is run element tw at offset (s // 2)*C of part s % 2."""
    h, w = x.shape[1], x.shape[2] // channels
    for r in range(rows):
        ih = row0 + r
        for p in range(2):
            dst = slab[r, p]
            for j in range(dst.shape[0] // channels):
                pixel = dst[j * channels:(j + 1) * channels]
                iw = 2 * j + p - left
                if 0 <= ih < h and 0 <= iw < w:
                    src = x[n, ih, iw * channels:(iw + 1) * channels]
                    for c in range(channels):
                        pixel[c] = src[c]
                else:
                    for c in range(channels):
                        pixel[c] = 0


@njit(cache=True)
def _input_row(slab, r0, run, channels, v, k):
    """v[4*r + s, k : k + run] = (B^T d B)[r, s] for the tiles of one tile row, whose 4 input rows are slab rows
    r0..r0+3; run = tiles_w * C. Row r of B^T is d[BT[r][0]] + BT[r][2] * d[BT[r][1]]."""
    for r in range(4):
        ra, rb, wrb = BT[r]
        for s in range(4):
            sa, sb, wsb = BT[s]
            oa, ob = (sa // 2) * channels, (sb // 2) * channels
            _signed_sum(v[4 * r + s, k:k + run],
                        slab[r0 + ra, sa % 2, oa:oa + run], slab[r0 + ra, sb % 2, ob:ob + run],
                        slab[r0 + rb, sa % 2, oa:oa + run], slab[r0 + rb, sb % 2, ob:ob + run], wsb, wrb)


@njit(cache=True)
def _input_tiles(x, channels, v, slab, row0, rows, top, left, tiles_h, tiles_w):
    """V for tile rows row0..row0+rows (numbered over all images: row g is tile row g % tiles_h of image
    g // tiles_h), tile row i's tiles at v[:, i*tiles_w*C : (i+1)*tiles_w*C]."""
    run = tiles_w * channels
    g = row0
    while g < row0 + rows:
        n, th = g // tiles_h, g % tiles_h
        count = min(row0 + rows - g, tiles_h - th)  # this image's tile rows in the chunk
        _fill_slab(x, channels, slab, n, 2 * th - top, 2 * count + 2, left)
        for i in range(count):
            _input_row(slab, 2 * i, run, channels, v, (g - row0 + i) * run)
        g += count


@njit(cache=True)
def _output_row(m, k, run, q, out):
    """out[2*a + b] = (A^T M A)[a, b] for the tiles of one tile row, M[r, s] = m[4*r + s, k : k + run]; q (8, run)
    is scratch for A^T M. A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]."""
    for s in range(4):
        m0, m1, m2, m3 = m[s, k:k + run], m[4 + s, k:k + run], m[8 + s, k:k + run], m[12 + s, k:k + run]
        _combine3(q[s], m0, m1, m2, ONE, ONE, ONE)
        _combine3(q[4 + s], m1, m2, m3, ONE, -ONE, -ONE)
    for a in range(2):
        q0, q1, q2, q3 = q[4 * a], q[4 * a + 1], q[4 * a + 2], q[4 * a + 3]
        _combine3(out[2 * a], q0, q1, q2, ONE, ONE, ONE)
        _combine3(out[2 * a + 1], q1, q2, q3, ONE, -ONE, -ONE)


@njit(cache=True)
def _write_tiles(m, y, outs, q, out, row0, rows, tiles_h, tiles_w, bias, relu):
    """y (N, H', W'*out) = A^T M A for tile rows row0..row0+rows, each output pixel copied from ``out``
    (4, tiles_w*out) and cropped at y's edge; then each line gets ``cpu_blas.epilogue`` (bias, ReLU)."""
    out_h, out_w = y.shape[1], y.shape[2] // outs
    run = tiles_w * outs
    for i in range(rows):
        n, th = (row0 + i) // tiles_h, (row0 + i) % tiles_h
        _output_row(m, i * run, run, q, out)
        for a in range(min(2, out_h - 2 * th)):
            line = y[n, 2 * th + a]
            for b in range(2):
                src = out[2 * a + b]
                for tw in range(min(tiles_w, (out_w - b + 1) // 2)):
                    pixel = line[(2 * tw + b) * outs:(2 * tw + b + 1) * outs]
                    value = src[tw * outs:(tw + 1) * outs]
                    for o in range(outs):
                        pixel[o] = value[o]
            epilogue(line.reshape(out_w, outs), bias, relu)


@njit(cache=True)
def _gradient_tiles(gy, outs, dm, g, p, row0, rows, tiles_h, tiles_w):
    """dm[4*r + s, i*run : (i+1)*run] = (A dy A^T)[r, s] for tile rows row0..row0+rows, dy the 2x2 tiles of gy
    (N, H', W'*out), zero past its edge; run = tiles_w * out. g (4, run) and p (8, run) are scratch: the
    tile row's dy (g[2*a + b] = dy[a, b] of every tile) and A dy."""
    out_h, out_w = gy.shape[1], gy.shape[2] // outs
    run = tiles_w * outs
    for i in range(rows):
        n, th = (row0 + i) // tiles_h, (row0 + i) % tiles_h
        for a in range(2):
            for b in range(2):
                dst = g[2 * a + b]
                for tw in range(tiles_w):
                    pixel = dst[tw * outs:(tw + 1) * outs]
                    oh, ow = 2 * th + a, 2 * tw + b
                    if oh < out_h and ow < out_w:
                        src = gy[n, oh, ow * outs:(ow + 1) * outs]
                        for o in range(outs):
                            pixel[o] = src[o]
                    else:
                        for o in range(outs):
                            pixel[o] = 0
        for r in range(4):  # A dy: p[2*r + b] = A[r, 0] dy[0, b] + A[r, 1] dy[1, b]
            for b in range(2):
                _combine2(p[2 * r + b], g[b], g[2 + b], A[r][0], A[r][1])
        for r in range(4):  # (A dy) A^T
            for s in range(4):
                _combine2(dm[4 * r + s, i * run:(i + 1) * run], p[2 * r], p[2 * r + 1], A[s][0], A[s][1])


@njit(parallel=True, cache=True)
def _forward(x, channels, u, y, v, m, slabs, q, out, rows_per_chunk, top, left, tiles_h, tiles_w, bias, relu):
    """y = conv(x, g) from U = filter_transform(g); per thread: v (16, >= rows*tiles_w*C), m (16, >= rows*tiles_w*out),
    a slab (2*rows + 2, 2, (tiles_w + 1)*C), q (8, tiles_w*out) and out (4, tiles_w*out)."""
    total = x.shape[0] * tiles_h
    chunks = (total + rows_per_chunk - 1) // rows_per_chunk
    threads, outs = v.shape[0], u.shape[2]
    for thread in prange(threads):
        vt, mt = v[thread], m[thread]
        for chunk in range(thread, chunks, threads):
            row0 = chunk * rows_per_chunk
            rows = min(rows_per_chunk, total - row0)
            count = rows * tiles_w
            _input_tiles(x, channels, vt, slabs[thread], row0, rows, top, left, tiles_h, tiles_w)
            for xi in range(16):
                gemm(vt[xi, :count * channels].reshape(count, channels), u[xi],
                     mt[xi, :count * outs].reshape(count, outs), False)
            _write_tiles(mt, y, outs, q[thread], out[thread], row0, rows, tiles_h, tiles_w, bias, relu)


@njit(parallel=True, cache=True)
def _filter_grad(x, channels, gy, outs, partial, v, m, slabs, g, p, rows_per_chunk, top, left, tiles_h, tiles_w):
    """partial[thread] = dU summed over that thread's tiles; the caller adds the threads' sums."""
    total = x.shape[0] * tiles_h
    chunks = (total + rows_per_chunk - 1) // rows_per_chunk
    threads = v.shape[0]
    for thread in prange(threads):
        vt, mt = v[thread], m[thread]
        partial[thread] = 0
        for chunk in range(thread, chunks, threads):
            row0 = chunk * rows_per_chunk
            rows = min(rows_per_chunk, total - row0)
            count = rows * tiles_w
            _input_tiles(x, channels, vt, slabs[thread], row0, rows, top, left, tiles_h, tiles_w)
            _gradient_tiles(gy, outs, mt, g[thread], p[thread], row0, rows, tiles_h, tiles_w)
            for xi in range(16):
                vx = vt[xi, :count * channels].reshape(count, channels)
                gemm(vx.T, mt[xi, :count * outs].reshape(count, outs), partial[thread, xi], True)


def applies(w_shape, stride, dilation):
    """3x3, stride 1, undilated, and wide enough that the 16 small GEMMs beat the im2col GEMMs (measured: 16
    channels ~10% faster than ``cpu_conv``'s tap-row GEMMs in all three directions; 12 channels 0-12% faster;
    8 channels no faster: forward 4.1 vs 4.1 ms, filter gradient 4.3 vs 3.7), but not so wide that the
    tap-row GEMMs win again (2 threads, MKL, forward / data / filter gradient: n8 28x28 512->512 110 / 110 /
    118 ms against 93 / 94 / 95; n8 56x56 256->256 75 / 72 / 75 against 89 / 89 / 93)."""
    return (tuple(w_shape[:2]) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and MIN_CHANNELS <= min(w_shape[2:]) and max(w_shape[2:]) <= MAX_CHANNELS)


def _tiling(x_shape, out_hw, channels, outs, threads):
    """(tiles along H, tiles along W, tile rows per chunk): chunks of about TILE_WORK / channels tiles."""
    tiles_h, tiles_w = -(-out_hw[0] // 2), -(-out_hw[1] // 2)
    tiles = max(1, TILE_WORK // max(channels, outs))
    rows = max(1, min(tiles // tiles_w, -(-x_shape[0] * tiles_h // threads)))
    return tiles_h, tiles_w, rows


def _buffers(threads, rows, tiles_w, channels, outs, dtype):
    """Per-thread V and M: (16, tiles * C + pad), the pad keeping the 16 rows off 4 KiB aliasing (10x slower);
    the slab, and two (8, tiles_w*out) scratch rows for the output or gradient transform."""
    pad = 64 // np.dtype(dtype).itemsize
    tiles = rows * tiles_w
    return (scratch("winograd_v", (threads, 16, tiles * channels + pad), dtype),
            scratch("winograd_m", (threads, 16, tiles * outs + pad), dtype),
            scratch("winograd_slab", (threads, 2 * rows + 2, 2, (tiles_w + 1) * channels), dtype),
            scratch("winograd_rows_a", (threads, 8, tiles_w * outs), dtype),
            scratch("winograd_rows_b", (threads, 8, tiles_w * outs), dtype))


def forward(x, w, top_left, y, threads, bias, relu):
    """y (N, H', W', out) = conv(x, w) (+ bias, ReLU: ``cpu_blas.epilogue``) for a 3x3 w, stride 1, padding
    implied by (top, left) and y's size."""
    n, h, width, c = x.shape
    outs = y.shape[3]
    tiles_h, tiles_w, rows = _tiling(x.shape, y.shape[1:3], c, outs, threads)
    v, m, slabs, q, out = _buffers(threads, rows, tiles_w, c, outs, x.dtype)
    _forward(x.reshape(n, h, width * c), c, filter_transform(w), y.reshape(n, y.shape[1], -1), v, m, slabs, q,
             out, rows, *top_left, tiles_h, tiles_w, bias, relu)


def filter_grad(x, gy, top_left, threads):
    """The gradient (3, 3, C, out) of the filters of that convolution, from gy (N, H', W', out)."""
    n, h, width, c = x.shape
    outs = gy.shape[3]
    tiles_h, tiles_w, rows = _tiling(x.shape, gy.shape[1:3], c, outs, threads)
    v, m, slabs, g, p = _buffers(threads, rows, tiles_w, c, outs, x.dtype)
    partial = np.empty((threads, 16, c, outs), x.dtype)
    _filter_grad(x.reshape(n, h, width * c), c, gy.reshape(n, gy.shape[1], -1), outs, partial, v, m, slabs, g, p,
                 rows, *top_left, tiles_h, tiles_w)
    return filter_gradient(partial.sum(axis=0), x.dtype)
