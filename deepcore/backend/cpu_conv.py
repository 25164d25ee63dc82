"""Fast CPU 2-D convolution: im2col + GEMM, chunked over numba threads.

Same signatures and results as ``reference.conv2d_*``. A "line" is one
``(image, output row)``; each image's lines are cut into chunks whose im2col
fits in a core's cache, and each numba thread takes every T-th chunk: it
writes the chunk's columns into its own scratch buffer and multiplies them
right away with single-threaded BLAS (``cpu_blas.gemm``).

- forward: one GEMM per tap row i, ``y += cols_i @ w[i]``, where cols_i
  holds the kw*C inputs of tap row i for each output pixel. With stride 1
  along H, tap row i of line l is tap row 0 of line l + i*dh, so a chunk
  builds its columns once for all kh tap rows (kh times less copying than a
  full im2col; measured, one thread, ResNet-20's n128 32x32 16->16 3x3:
  7.2 vs 8.8 ms forward, 7.6 vs 9.3 ms filter gradient; LeNet-5's 6->16
  5x5: 0.9 vs 1.15 ms). A 1x1, stride-1, unpadded conv reads x as its cols.
  A 3x3 stride-1 conv with 16+ channels runs Winograd (``cpu_winograd``:
  2.25x fewer multiplies).
- backward data, stride 1 and 'same'-size output: the transposed convolution
  is a forward convolution of ``gy`` with the flipped, in/out-swapped
  filters. Otherwise ``gy @ w.T`` per chunk of whole images, then col2im as a
  gather (each input line sums the columns that read it), so no two threads
  write one pixel. The gather adds runs of C floats, scalar for few input
  channels, so up to FLIPPED_MAX_CHANNELS a smaller stride-1 output ('valid')
  runs the flipped conv too, though it multiplies the zero padding around gy
  (1.3-2x the multiplies). Measured, one thread, 5x5 'valid', flipped vs
  col2im (torch): LeNet-5 conv2 n128 14x14 6->16 2.34 vs 2.49 ms (1.38);
  n128 28x28 6->16 9.4 vs 16.0 (6.4); n32 16x16 3->8 3x3 0.27 vs 0.34
  (0.27); but 10 channels, n64 12x12 10->50 3.46 vs 1.80; 12->16 @14x14 3.57
  vs 2.99; the MNIST CNN's n64 12x12 20->50 4.29 vs 2.53 (2.94).
- backward filter: each thread sums ``cols_i.T @ gy`` over its chunks into
  its own copy of tap row i's gradient; the threads' partial sums are added
  at the end (Winograd where forward uses it).
- up to 4 input channels (a first layer), forward and backward filter use the
  transposed, "planar" im2col (``_planar_cols``): one row per (tap, channel)
  holding a chunk's output pixels, copied as out_w-long runs from the input
  rows split into one plane per channel. The NHWC im2col copies runs of only
  kw*C values there (5 for LeNet's 1-channel 5x5), which cost more than the
  GEMM. Measured, one thread, planar vs NHWC im2col: LeNet-5 conv1 (n128
  28x28 1->6 5x5) 1.26 vs 4.1 ms forward, 1.3 vs 4.3 ms filter gradient;
  CIFAR 3->32 3x3 2.9 vs 4.5 / 3.9 vs 5.7 ms; 6 channels: 1.8 vs 1.3 ms
  (NHWC wins from there).

Chunks of ~256 pixels run fastest for the NHWC im2col (measured single-
threaded, 16->16: 7.1 ms vs 8.0 at 128 and 7.3 at 512), 512 for the planar
one (LeNet conv1: 1.26 ms vs 1.35 at 256). The scratch buffers are kept per
Python thread and reused across calls; they are never returned. Without a
BLAS (``cpu_blas.available()``) these kernels are left out of the table and
the reference runs.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from . import cpu_blas, cpu_winograd, reference
from .cpu_blas import epilogue, gemm
from .cpu_support import same_float, scratch

CHUNK_ROWS = 256  # output pixels per GEMM (see the module docstring)
PLANAR_MAX_CHANNELS = 4  # input channels up to which the transposed im2col runs
PLANAR_CHUNK_PIXELS = 512  # output pixels per GEMM there
FLIPPED_MAX_CHANNELS = 6  # input channels up to which a stride-1 data gradient always runs as a flipped conv


@njit(cache=True)
def _im2col_line(x, channels, cols, n, oh, kh, kw, sh, sw, top, left, dh, dw):
    """cols[ow, (i * kw + j) * C + c] = xpad[n, oh*sh + i*dh, ow*sw + j*dw, c] for one output line.

    ``x`` is (N, H, W*C); pixels outside it (padding) read as 0. The copies go through 1-D slices:
    numba vectorizes those loops (measured 5x faster than indexing ``cols[ow, base + k]``).
    """
    h, w = x.shape[1], x.shape[2] // channels
    run = kw * channels
    for i in range(kh):
        ih = oh * sh - top + i * dh
        base = i * run
        inside_h = 0 <= ih < h
        src = x[n, max(0, min(ih, h - 1))]
        for ow in range(cols.shape[0]):
            iw0 = ow * sw - left
            dst = cols[ow, base:base + run]
            if not inside_h:
                for k in range(run):
                    dst[k] = 0
            elif dw == 1 and iw0 >= 0 and iw0 + kw <= w:  # the window's row is one contiguous run of x
                window = src[iw0 * channels:iw0 * channels + run]
                for k in range(run):
                    dst[k] = window[k]
            else:
                for j in range(kw):
                    iw = iw0 + j * dw
                    pixel = dst[j * channels:(j + 1) * channels]
                    if 0 <= iw < w:
                        value = src[iw * channels:(iw + 1) * channels]
                        for c in range(channels):
                            pixel[c] = value[c]
                    else:
                        for c in range(channels):
                            pixel[c] = 0


@njit(cache=True)
def _col2im_line(cols, gx, channels, n, ih, kh, kw, sh, sw, top, left, dh, dw, out_h, out_w):
    """Adjoint of ``_im2col_line``: input line ``ih`` of image ``n`` of gx (N, H, W*C) = the sum of the
    columns that read it; ``cols`` holds image n's ``out_h * out_w`` rows."""
    w = gx.shape[2] // channels
    line = gx[n, ih]
    line[:] = 0
    for i in range(kh):
        t = ih + top - i * dh
        if t < 0 or t % sh != 0 or t // sh >= out_h:
            continue
        first = (t // sh) * out_w
        for iw in range(w):
            pixel = line[iw * channels:(iw + 1) * channels]
            for j in range(kw):
                u = iw + left - j * dw
                if u < 0 or u % sw != 0 or u // sw >= out_w:
                    continue
                offset = (i * kw + j) * channels
                value = cols[first + u // sw, offset:offset + channels]
                for c in range(channels):
                    pixel[c] += value[c]


@njit(cache=True)
def _tap_row_cols(x, channels, buffer, n, first, count, i, kw, sh, sw, top, left, dh, dw, out_w):
    """The kw*C im2col columns of tap row i for output lines first..first+count of image n, in ``buffer``."""
    for line in range(count):  # tap row i of line l reads input row l*sh - top + i*dh
        _im2col_line(x, channels, buffer[line * out_w:(line + 1) * out_w], n, first + line, 1, kw, sh, sw,
                     top - i * dh, left, 1, dw)
    return buffer[:count * out_w]


@njit(cache=True)
def _chunk_tap_rows(x, channels, buffer, n, line0, count, i, kh, kw, sh, sw, top, left, dh, dw, out_h, out_w):
    """cols_i of a chunk. With stride 1 along H, tap row i of line l is tap row 0 of line l + i*dh, so
    tap row 0 is built once, for count + (kh-1)*dh lines, and the others are views into it. A 1x1 conv
    reads x as its cols."""
    if kh == 1 and kw == 1 and sh == 1 and sw == 1 and top == 0 and left == 0 and x.shape[1] == out_h \
            and x.shape[2] == out_w * channels:
        return x.reshape(-1, channels)[(n * out_h + line0) * out_w:(n * out_h + line0 + count) * out_w]
    if sh == 1 and kh > 1:
        if i == 0:
            _tap_row_cols(x, channels, buffer, n, line0, count + (kh - 1) * dh, 0, kw, 1, sw, top, left, dh, dw,
                          out_w)
        return buffer[i * dh * out_w:(i * dh + count) * out_w]
    return _tap_row_cols(x, channels, buffer, n, line0, count, i, kw, sh, sw, top, left, dh, dw, out_w)


@njit(parallel=True, cache=True)
def _conv_forward(x, channels, w3, y2, buffers, lines_per_chunk, kh, kw, sh, sw, top, left, dh, dw,
                  out_h, out_w, bias, relu):
    """y2 (N*out_h*out_w, out) = sum over tap rows i of cols_i @ w3[i], per chunk of lines of one image,
    thread t taking chunks t, t + T, ..., then ``epilogue`` (bias, ReLU) on the chunk."""
    blocks = (out_h + lines_per_chunk - 1) // lines_per_chunk
    chunks = x.shape[0] * blocks
    threads = buffers.shape[0]
    for t in prange(threads):
        for chunk in range(t, chunks, threads):
            n, line0 = chunk // blocks, (chunk % blocks) * lines_per_chunk
            count = min(lines_per_chunk, out_h - line0)
            first = (n * out_h + line0) * out_w
            y_chunk = y2[first:first + count * out_w]
            for i in range(kh):
                cols = _chunk_tap_rows(x, channels, buffers[t], n, line0, count, i, kh, kw, sh, sw, top, left,
                                       dh, dw, out_h, out_w)
                gemm(cols, w3[i], y_chunk, i > 0)
            epilogue(y_chunk, bias, relu)


@njit(parallel=True, cache=True)
def _conv_filter_grad(x, channels, gy2, partial, buffers, lines_per_chunk, kh, kw, sh, sw, top, left, dh, dw,
                      out_h, out_w):
    """partial[t, i] = sum over thread t's chunks of cols_i.T @ gy2; the caller adds the T partial sums."""
    blocks = (out_h + lines_per_chunk - 1) // lines_per_chunk
    chunks = x.shape[0] * blocks
    threads = buffers.shape[0]
    for t in prange(threads):
        partial[t] = 0
        for chunk in range(t, chunks, threads):
            n, line0 = chunk // blocks, (chunk % blocks) * lines_per_chunk
            count = min(lines_per_chunk, out_h - line0)
            first = (n * out_h + line0) * out_w
            for i in range(kh):
                cols = _chunk_tap_rows(x, channels, buffers[t], n, line0, count, i, kh, kw, sh, sw, top, left,
                                       dh, dw, out_h, out_w)
                gemm(cols.T, gy2[first:first + count * out_w], partial[t, i], True)


@njit(parallel=True, cache=True)
def _conv_data_grad(gy2, w2t, gx, channels, buffers, images_per_chunk, kh, kw, sh, sw, top, left, dh, dw,
                    out_h, out_w):
    """gx (N, H, W*C) = col2im(gy2 @ w2t), thread t taking chunks of whole images t, t + T, ..."""
    images, h = gx.shape[0], gx.shape[1]
    per_image = out_h * out_w
    chunks = (images + images_per_chunk - 1) // images_per_chunk
    threads = buffers.shape[0]
    for t in prange(threads):
        for chunk in range(t, chunks, threads):
            n0 = chunk * images_per_chunk
            count = min(images_per_chunk, images - n0)
            cols = buffers[t][:count * per_image]
            gemm(gy2[n0 * per_image:(n0 + count) * per_image], w2t, cols, False)
            for m in range(count):
                for ih in range(h):
                    _col2im_line(cols[m * per_image:(m + 1) * per_image], gx, channels, n0 + m, ih,
                                 kh, kw, sh, sw, top, left, dh, dw, out_h, out_w)


@njit(cache=True)
def _planar_cols(x, channels, slab, cols, n, r0, rows, kh, kw, sh, sw, top, left, dh, dw, out_w):
    """cols[(i * kw + j) * C + c, r * out_w + ow] = xpad[n, (r0 + r)*sh + i*dh, ow*sw + j*dw, c]: the
    transposed im2col of output rows r0..r0+rows of image n, through ``slab`` (C, rows', W'), the input rows
    they read, one plane per channel and zero-padded. Each cols row is then a copy of out_w-long runs."""
    h, w = x.shape[1], x.shape[2] // channels
    src = x[n]
    for s in range(slab.shape[1]):
        ih = r0 * sh - top + s
        for c in range(channels):
            plane = slab[c, s]
            plane[:] = 0
            if 0 <= ih < h:
                line = src[ih]
                for iw in range(max(0, -left), min(w, plane.shape[0] - left)):
                    plane[left + iw] = line[iw * channels + c]
    for i in range(kh):
        for j in range(kw):
            for c in range(channels):
                dst = cols[(i * kw + j) * channels + c]
                for r in range(rows):
                    run = slab[c, r * sh + i * dh, j * dw:]
                    out = dst[r * out_w:(r + 1) * out_w]
                    if sw == 1:
                        for ow in range(out_w):
                            out[ow] = run[ow]
                    else:
                        for ow in range(out_w):
                            out[ow] = run[ow * sw]


@njit(parallel=True, cache=True)
def _planar_forward(x, channels, w2, y2, slabs, buffers, rows_per_chunk, kh, kw, sh, sw, top, left, dh, dw,
                    out_h, out_w, bias, relu):
    """y2 (N*out_h*out_w, out) = cols.T @ w2 per chunk of output rows of one image, thread t taking chunks
    t, t + T, ..., then ``epilogue`` (bias, ReLU) on the chunk."""
    blocks = (out_h + rows_per_chunk - 1) // rows_per_chunk
    chunks = x.shape[0] * blocks
    threads = buffers.shape[0]
    k = w2.shape[0]
    for t in prange(threads):
        for chunk in range(t, chunks, threads):
            n, r0 = chunk // blocks, (chunk % blocks) * rows_per_chunk
            rows = min(rows_per_chunk, out_h - r0)
            cols = buffers[t, :k * rows * out_w].reshape(k, rows * out_w)
            _planar_cols(x, channels, slabs[t], cols, n, r0, rows, kh, kw, sh, sw, top, left, dh, dw, out_w)
            first = (n * out_h + r0) * out_w
            gemm(cols.T, w2, y2[first:first + rows * out_w], False)
            epilogue(y2[first:first + rows * out_w], bias, relu)


@njit(parallel=True, cache=True)
def _planar_filter_grad(x, channels, gy2, partial, slabs, buffers, rows_per_chunk, kh, kw, sh, sw, top, left,
                        dh, dw, out_h, out_w):
    """partial[t] = sum over thread t's chunks of cols @ gy2 rows; the caller adds the T partial sums."""
    blocks = (out_h + rows_per_chunk - 1) // rows_per_chunk
    chunks = x.shape[0] * blocks
    threads = buffers.shape[0]
    k = partial.shape[1]
    for t in prange(threads):
        partial[t] = 0
        for chunk in range(t, chunks, threads):
            n, r0 = chunk // blocks, (chunk % blocks) * rows_per_chunk
            rows = min(rows_per_chunk, out_h - r0)
            cols = buffers[t, :k * rows * out_w].reshape(k, rows * out_w)
            _planar_cols(x, channels, slabs[t], cols, n, r0, rows, kh, kw, sh, sw, top, left, dh, dw, out_w)
            first = (n * out_h + r0) * out_w
            gemm(cols, gy2[first:first + rows * out_w], partial[t], True)


def _chunking(threads, units, unit_rows):
    """Units (lines or images) per chunk: about CHUNK_ROWS rows, the number of chunks a multiple of ``threads``."""
    chunks = max(threads, -(-units // max(1, CHUNK_ROWS // unit_rows)))
    return max(1, -(-units // (-(-chunks // threads) * threads)))


def _planar_applies(w_shape):
    """Few input channels (a network's first layer): the NHWC im2col copies runs of only kw*C values there."""
    return w_shape[2] <= PLANAR_MAX_CHANNELS and w_shape[0] * w_shape[1] > 1


def _planar_chunking(threads, w_shape, stride, dilation, out_hw, dtype):
    """(output rows per chunk, per-thread slabs, per-thread cols) for the ``_planar_*`` kernels."""
    kh, kw, c, _ = w_shape
    out_h, out_w = out_hw
    rows = max(1, min(out_h, PLANAR_CHUNK_PIXELS // out_w))
    rows = -(-out_h // -(-out_h // rows))  # the same rows in every chunk of an image
    slab_shape = (threads, c, (rows - 1) * stride[0] + (kh - 1) * dilation[0] + 1,
                  (out_w - 1) * stride[1] + (kw - 1) * dilation[1] + 1)
    return (rows, scratch("planar_slab", slab_shape, dtype),
            scratch("planar_cols", (threads, kh * kw * c * rows * out_w), dtype))


def _line_chunking(threads, w_shape, stride, dilation, out_hw, dtype):
    """(output lines per chunk, per-thread cols) for ``_conv_forward`` and ``_conv_filter_grad``: about
    CHUNK_ROWS pixels per GEMM, the same lines in every chunk of an image."""
    kh, kw, c, _ = w_shape
    out_h, out_w = out_hw
    lines = max(1, min(out_h, CHUNK_ROWS // out_w))
    lines = -(-out_h // -(-out_h // lines))
    rows = lines + (kh - 1) * dilation[0] if stride[0] == 1 else lines
    return lines, scratch("cols", (threads, rows * out_w, kw * c), dtype)


def _output_hw(x_shape, w_shape, stride, padding, dilation):
    return tuple(reference.conv_output_size(x_shape[1 + a], w_shape[a], stride[a], *padding[a], dilation[a])
                 for a in range(2))


def _conv(x, w, stride, top_left, dilation, out_hw, bias=None, relu=False):
    """y = conv(x, w) with output size ``out_hw`` (+ bias, then ReLU when ``relu``, on each chunk of y as it
    is computed); the padding is implied by (top, left) and out_hw."""
    n, h, width, c = x.shape
    kh, kw, _, c_out = w.shape
    out_h, out_w = out_hw
    k = kh * kw * c
    y = np.empty((n, out_h, out_w, c_out), x.dtype)
    bias = np.empty(0, x.dtype) if bias is None else np.ascontiguousarray(bias)
    threads = numba.get_num_threads()
    with cpu_blas.one_thread():
        if _planar_applies(w.shape):
            rows, slabs, cols = _planar_chunking(threads, w.shape, stride, dilation, out_hw, x.dtype)
            _planar_forward(x.reshape(n, h, width * c), c, w.reshape(k, c_out), y.reshape(-1, c_out), slabs, cols,
                            rows, kh, kw, *stride, *top_left, *dilation, out_h, out_w, bias, relu)
            return y
        if cpu_winograd.applies(w.shape, stride, dilation):
            cpu_winograd.forward(x, w, top_left, y, threads, bias, relu)
            return y
        lines, cols = _line_chunking(threads, w.shape, stride, dilation, out_hw, x.dtype)
        _conv_forward(x.reshape(n, h, width * c), c, w.reshape(kh, kw * c, c_out), y.reshape(-1, c_out), cols,
                      lines, kh, kw, *stride, *top_left, *dilation, out_h, out_w, bias, relu)
    return y


def conv2d_forward(x, w, stride, padding, dilation):
    if not same_float(x, w):
        return reference.conv2d_forward(x, w, stride, padding, dilation)
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    out_hw = _output_hw(x.shape, w.shape, stride, padding, dilation)
    return _conv(x, w, tuple(stride), (padding[0][0], padding[1][0]), tuple(dilation), out_hw)


def conv2d_bias_relu_forward(x, w, bias, stride, padding, dilation, relu=True):
    """conv2d_forward + bias, then ReLU when ``relu``, applied to each chunk of the output by the thread that
    computed it (no second pass over y, no second launch)."""
    if not same_float(x, w, bias) or bias.shape != (w.shape[-1],):
        return reference.conv2d_bias_relu_forward(x, w, bias, stride, padding, dilation, relu)
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    out_hw = _output_hw(x.shape, w.shape, stride, padding, dilation)
    return _conv(x, w, tuple(stride), (padding[0][0], padding[1][0]), tuple(dilation), out_hw, bias, bool(relu))


def conv2d_backward_data(gy, w, x_shape, stride, padding, dilation):
    if not same_float(gy, w):
        return reference.conv2d_backward_data(gy, w, x_shape, stride, padding, dilation)
    gy, w = np.ascontiguousarray(gy), np.ascontiguousarray(w)
    kh, kw, c, c_out = w.shape
    n, h, width, _ = x_shape
    out_h, out_w = gy.shape[1:3]
    if tuple(stride) == (1, 1) and (out_h * out_w >= h * width or c <= FLIPPED_MAX_CHANNELS):
        flipped = np.ascontiguousarray(w[::-1, ::-1].transpose(0, 1, 3, 2))
        top_left = ((kh - 1) * dilation[0] - padding[0][0], (kw - 1) * dilation[1] - padding[1][0])
        return _conv(gy, flipped, (1, 1), top_left, tuple(dilation), (h, width))
    k = kh * kw * c
    gx = np.empty((n, h, width * c), gy.dtype)
    threads = numba.get_num_threads()
    with cpu_blas.one_thread():
        images = _chunking(threads, n, out_h * out_w)
        _conv_data_grad(gy.reshape(-1, c_out), np.ascontiguousarray(w.reshape(k, c_out).T), gx, c,
                        scratch("cols", (threads, images * out_h * out_w, k), gy.dtype), images, kh, kw, *stride,
                        padding[0][0], padding[1][0], *dilation, out_h, out_w)
    return gx.reshape(x_shape)


def conv2d_backward_filter(x, gy, w_shape, stride, padding, dilation):
    if not same_float(x, gy):
        return reference.conv2d_backward_filter(x, gy, w_shape, stride, padding, dilation)
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(gy)
    kh, kw, c, c_out = w_shape
    n, h, width, _ = x.shape
    out_h, out_w = gy.shape[1:3]
    k = kh * kw * c
    threads = numba.get_num_threads()
    with cpu_blas.one_thread():
        partial = np.empty((threads, k, c_out), x.dtype)
        if _planar_applies(w_shape):
            rows, slabs, cols = _planar_chunking(threads, w_shape, stride, dilation, (out_h, out_w), x.dtype)
            _planar_filter_grad(x.reshape(n, h, width * c), c, gy.reshape(-1, c_out), partial, slabs, cols, rows,
                                kh, kw, *stride, padding[0][0], padding[1][0], *dilation, out_h, out_w)
            return partial.sum(axis=0).reshape(w_shape)
        if cpu_winograd.applies(w_shape, stride, dilation):
            return cpu_winograd.filter_grad(x, gy, (padding[0][0], padding[1][0]), threads)
        lines, cols = _line_chunking(threads, w_shape, stride, dilation, (out_h, out_w), x.dtype)
        partial = partial.reshape(threads, kh, kw * c, c_out)
        _conv_filter_grad(x.reshape(n, h, width * c), c, gy.reshape(-1, c_out), partial, cols, lines, kh, kw,
                          *stride, padding[0][0], padding[1][0], *dilation, out_h, out_w)
    return partial.sum(axis=0).reshape(w_shape)


KERNELS = {
    "conv2d_forward": conv2d_forward,
    "conv2d_bias_relu_forward": conv2d_bias_relu_forward,
    "conv2d_backward_data": conv2d_backward_data,
    "conv2d_backward_filter": conv2d_backward_filter,
} if cpu_blas.available() else {}
