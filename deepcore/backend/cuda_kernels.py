"""CUDA kernels (``kernels/*.cu`` through ``cupy.RawModule``) with the reference signatures.

``KERNELS`` maps each name of ``kernel_table.KERNEL_NAMES`` to a wrapper that
computes the launch configuration from the shapes and runs the CUDA kernel. A wrapper runs the
reference instead, logged under ``DEEPCORE_DEBUG=1``, when an input is not
float32 (float64 gradient checks), is empty, has a layout the kernel does not
cover (e.g. a bias that is not one value per channel), or when its ``.cu`` did
not compile (``cuda_modules`` has already warned). Shapes whose buffers would
overflow the kernels' int32 indices raise ``ValueError``. The optimizer
updates live in ``cuda_optim``.

Convolution is im2col/col2im kernels around cuBLAS GEMMs (``cupy.matmul``),
the batch split into chunks so the column buffer stays below
``COLS_BUFFER_ELEMENTS``; a 1x1, stride-1, unpadded convolution skips
im2col. An implicit-GEMM kernel (shared-memory tiles, no column buffer) is the
alternative; which is faster on ResNet shapes is still to be measured on a GPU
(``benchmarks/gpu_check.py``), so the simpler one is here.
"""
from __future__ import annotations

import math

import numpy as np

from . import reference
from .cuda_modules import (INDEX_LIMIT, check_index_range, contiguous, cuda_kernel, empty, ints, kernel_function,
                           launch)
from .cuda_optim import adam_update, sgd_momentum_update
from .kernel_table import KERNEL_NAMES

COLS_BUFFER_ELEMENTS = 2**26  # 256 MiB of float32 im2col columns per chunk of the batch
BATCHNORM_BLOCK = (32, 8)  # (kChannelsPerBlock, kRowsPerBlock) of kernels/batchnorm.cu
BATCHNORM_ROWS_PER_THREAD = 16  # rows each thread of the partial reductions folds before the tree
BATCHNORM_MAX_PARTIALS = 512  # partial results per channel (gridDim.y of the partial reductions)


# ---------------------------------------------------------------------------------------------- convolution

class ConvGeometry:
    """Output size, kernel arguments and batch chunks of one NHWC convolution."""

    def __init__(self, kernel, x_shape, w_shape, stride, padding, dilation):
        self.batch, self.height, self.width, self.channels = x_shape
        self.kernel_h, self.kernel_w, _, self.out_channels = w_shape
        (self.pad_top, pad_bottom), (self.pad_left, pad_right) = padding
        self.stride, self.dilation = stride, dilation
        self.out_h = reference.conv_output_size(self.height, self.kernel_h, stride[0], self.pad_top, pad_bottom,
                                                dilation[0])
        self.out_w = reference.conv_output_size(self.width, self.kernel_w, stride[1], self.pad_left, pad_right,
                                                dilation[1])
        self.row_length = self.kernel_h * self.kernel_w * self.channels
        self.identity = ((self.kernel_h, self.kernel_w) == (1, 1) and tuple(stride) == (1, 1)
                         and not (self.pad_top or pad_bottom or self.pad_left or pad_right))  # cols == x
        cols_per_image = self.out_h * self.out_w * self.row_length
        check_index_range(kernel, math.prod(x_shape), self.batch * self.out_h * self.out_w * self.out_channels,
                          cols_per_image)
        self.chunk = max(1, min(self.batch, min(COLS_BUFFER_ELEMENTS, INDEX_LIMIT - 1) // cols_per_image))

    def chunks(self):
        for start in range(0, self.batch, self.chunk):
            yield start, min(start + self.chunk, self.batch)

    def kernel_args(self, batch):
        return ints(batch, self.height, self.width, self.channels, self.kernel_h, self.kernel_w, self.out_h,
                    self.out_w, *self.stride, self.pad_top, self.pad_left, *self.dilation)

    def im2col(self, x):
        """(batch, H, W, C) contiguous -> (batch*out_h*out_w, kh*kw*C) columns (a view when ``identity``)."""
        if self.identity:
            return x.reshape(-1, self.row_length)
        cols = empty((x.shape[0] * self.out_h * self.out_w, self.row_length))
        launch("conv", "im2col_nhwc", cols.size, (x, cols, *self.kernel_args(x.shape[0])))
        return cols


@cuda_kernel("conv", reference.conv2d_forward)
def conv2d_forward(x, w, stride, padding, dilation):
    import cupy
    x, w = contiguous(x, w)
    g = ConvGeometry("conv2d_forward", x.shape, w.shape, stride, padding, dilation)
    weights = w.reshape(g.row_length, g.out_channels)
    y = empty((g.batch, g.out_h, g.out_w, g.out_channels))
    for start, stop in g.chunks():
        cupy.matmul(g.im2col(x[start:stop]), weights, out=y[start:stop].reshape(-1, g.out_channels))
    return y


@cuda_kernel("conv", reference.conv2d_backward_data)
def conv2d_backward_data(gy, w, x_shape, stride, padding, dilation):
    import cupy
    gy, w = contiguous(gy, w)
    g = ConvGeometry("conv2d_backward_data", x_shape, w.shape, stride, padding, dilation)
    weights_t = w.reshape(g.row_length, g.out_channels).T
    gx = empty(tuple(x_shape))
    for start, stop in g.chunks():
        rows = gy[start:stop].reshape(-1, g.out_channels)
        if g.identity:
            cupy.matmul(rows, weights_t, out=gx[start:stop].reshape(-1, g.row_length))
            continue
        gcols = cupy.matmul(rows, weights_t)
        launch("conv", "col2im_nhwc", (stop - start) * g.height * g.width * g.channels,
               (gcols, gx[start:stop], *g.kernel_args(stop - start)))
    return gx


@cuda_kernel("conv", reference.conv2d_backward_filter)
def conv2d_backward_filter(x, gy, w_shape, stride, padding, dilation):
    import cupy
    x, gy = contiguous(x, gy)
    g = ConvGeometry("conv2d_backward_filter", x.shape, w_shape, stride, padding, dilation)
    gw = cupy.zeros((g.row_length, g.out_channels), dtype=np.float32)
    for start, stop in g.chunks():
        gw += cupy.matmul(g.im2col(x[start:stop]).T, gy[start:stop].reshape(-1, g.out_channels))
    return gw.reshape(tuple(w_shape))


def _is_channel_bias(x, bias, *rest):
    return bias.shape == (x.shape[-1],)


@cuda_kernel("conv", reference.conv2d_bias_relu_forward,
             supported=lambda x, w, bias, *rest: bias.shape == (w.shape[-1],))
def conv2d_bias_relu_forward(x, w, bias, stride, padding, dilation, relu=True):
    """The convolution's GEMM output gets bias (+ReLU) in place: one extra read and write, no new buffer."""
    y = conv2d_forward(x, w, stride, padding, dilation)
    return _bias_relu(y, bias, relu, out=y)


# ---------------------------------------------------------------------------------------------- pooling

def _pool_args(kernel, x_shape, pool, stride, padding):
    n, h, w, c = x_shape
    (top, bottom), (left, right) = padding
    out_h = reference.conv_output_size(h, pool[0], stride[0], top, bottom)
    out_w = reference.conv_output_size(w, pool[1], stride[1], left, right)
    check_index_range(kernel, n * h * w * c, n * out_h * out_w * c)
    return (n, out_h, out_w, c), ints(n, h, w, c, out_h, out_w, *pool, *stride, top, left)


@cuda_kernel("pooling", reference.maxpool2d_forward)
def maxpool2d_forward(x, pool, stride, padding):
    (x,) = contiguous(x)
    y_shape, args = _pool_args("maxpool2d_forward", x.shape, pool, stride, padding)
    y, argmax = empty(y_shape), empty(y_shape, np.int32)
    launch("pooling", "maxpool2d_forward_nhwc", y.size, (x, y, argmax, *args))
    return y, argmax


@cuda_kernel("pooling", reference.maxpool2d_backward)
def maxpool2d_backward(gy, argmax, x_shape, pool, stride, padding):
    gy, argmax = contiguous(gy, argmax.astype(np.int32, copy=False))
    _, args = _pool_args("maxpool2d_backward", x_shape, pool, stride, padding)
    gx = empty(tuple(x_shape))
    launch("pooling", "maxpool2d_backward_nhwc", gx.size, (gy, argmax, gx, *args))
    return gx


@cuda_kernel("pooling", reference.avgpool2d_forward)
def avgpool2d_forward(x, pool, stride, padding):
    (x,) = contiguous(x)
    y_shape, args = _pool_args("avgpool2d_forward", x.shape, pool, stride, padding)
    y = empty(y_shape)
    launch("pooling", "avgpool2d_forward_nhwc", y.size, (x, y, *args))
    return y


@cuda_kernel("pooling", reference.avgpool2d_backward)
def avgpool2d_backward(gy, x_shape, pool, stride, padding):
    (gy,) = contiguous(gy)
    _, args = _pool_args("avgpool2d_backward", x_shape, pool, stride, padding)
    gx = empty(tuple(x_shape))
    launch("pooling", "avgpool2d_backward_nhwc", gx.size, (gy, gx, *args))
    return gx


# ---------------------------------------------------------------------------------------------- batch norm

def _partial_grid(rows, channels):
    """Grid of the two-stage per-channel reductions: (channel blocks, partial rows)."""
    partial_rows = min(math.ceil(rows / (BATCHNORM_BLOCK[1] * BATCHNORM_ROWS_PER_THREAD)), BATCHNORM_MAX_PARTIALS)
    return (math.ceil(channels / BATCHNORM_BLOCK[0]), max(1, partial_rows))


def _per_channel(x, *vectors):
    return all(v.shape == (x.shape[-1],) for v in vectors)


def _batchnorm_train(x, gamma, beta, epsilon, fuse_relu):
    x, gamma, beta = contiguous(x, gamma, beta)
    channels = x.shape[-1]
    rows = x.size // channels
    check_index_range("batchnorm_forward_train", x.size)
    grid = _partial_grid(rows, channels)
    partial = empty((3, grid[1], channels))
    kernel_function("batchnorm", "batchnorm_partial_moments")(grid, BATCHNORM_BLOCK,
                                                              (x, partial, *ints(rows, channels)))
    mean, variance, inv_std = (empty((channels,)) for _ in range(3))
    launch("batchnorm", "batchnorm_finalize_moments", channels,
           (partial, *ints(grid[1], channels), np.float32(epsilon), mean, variance, inv_std), per_warp=True)
    y = empty(x.shape)
    launch("batchnorm", "batchnorm_normalize", x.size,
           (x, mean, inv_std, gamma, beta, y, *ints(x.size, channels, fuse_relu)))
    return y, mean, variance, inv_std


def _batchnorm_backward(gy, relu_output, x, gamma, mean, inv_std):
    fuse_relu = relu_output is not None
    gy, x, gamma, mean, inv_std = contiguous(gy, x, gamma, mean, inv_std)
    (relu_output,) = contiguous(relu_output) if fuse_relu else (gy,)  # unread when not fused
    channels = x.shape[-1]
    rows = x.size // channels
    check_index_range("batchnorm_backward", x.size)
    grid = _partial_grid(rows, channels)
    partial = empty((2, grid[1], channels))
    kernel_function("batchnorm", "batchnorm_backward_partial_sums")(
        grid, BATCHNORM_BLOCK, (gy, x, relu_output, *ints(fuse_relu), mean, inv_std, partial, *ints(rows, channels)))
    ggamma, gbeta = empty((channels,)), empty((channels,))
    launch("batchnorm", "batchnorm_backward_finalize", channels, (partial, *ints(grid[1], channels), ggamma, gbeta),
           per_warp=True)
    gx = empty(x.shape)
    launch("batchnorm", "batchnorm_backward_data", x.size,
           (gy, x, relu_output, *ints(fuse_relu), mean, inv_std, gamma, ggamma, gbeta, gx,
            *ints(x.size, channels, rows)))
    return gx, ggamma, gbeta


@cuda_kernel("batchnorm", reference.batchnorm_forward_train,
             supported=lambda x, gamma, beta, eps: _per_channel(x, gamma, beta))
def batchnorm_forward_train(x, gamma, beta, epsilon):
    return _batchnorm_train(x, gamma, beta, epsilon, fuse_relu=0)


@cuda_kernel("batchnorm", reference.batchnorm_relu_forward_train,
             supported=lambda x, gamma, beta, eps: _per_channel(x, gamma, beta))
def batchnorm_relu_forward_train(x, gamma, beta, epsilon):
    return _batchnorm_train(x, gamma, beta, epsilon, fuse_relu=1)


@cuda_kernel("batchnorm", reference.batchnorm_forward_infer,
             supported=lambda x, gamma, beta, mean, variance, eps: _per_channel(x, gamma, beta, mean, variance))
def batchnorm_forward_infer(x, gamma, beta, mean, variance, epsilon):
    x, gamma, beta, mean, variance = contiguous(x, gamma, beta, mean, variance)
    check_index_range("batchnorm_forward_infer", x.size)
    y = empty(x.shape)
    launch("batchnorm", "batchnorm_forward_infer_nhwc", x.size,
           (x, gamma, beta, mean, variance, np.float32(epsilon), y, *ints(x.size, x.shape[-1])))
    return y


@cuda_kernel("batchnorm", reference.batchnorm_relu_forward_infer,
             supported=lambda x, gamma, beta, mean, variance, eps: _per_channel(x, gamma, beta, mean, variance))
def batchnorm_relu_forward_infer(x, gamma, beta, mean, variance, epsilon):
    """The training forward's normalize-and-clamp kernel, given the moving statistics as (mean, inv_std)."""
    import cupy
    x, gamma, beta, mean, variance = contiguous(x, gamma, beta, mean, variance)
    check_index_range("batchnorm_relu_forward_infer", x.size)
    inv_std = (1 / cupy.sqrt(variance + np.float32(epsilon))).astype(np.float32, copy=False)
    y = empty(x.shape)
    launch("batchnorm", "batchnorm_normalize", x.size,
           (x, mean, inv_std, gamma, beta, y, *ints(x.size, x.shape[-1], 1)))
    return y


@cuda_kernel("batchnorm", reference.batchnorm_backward,
             supported=lambda gy, x, gamma, mean, inv_std: gy.shape == x.shape
             and _per_channel(x, gamma, mean, inv_std))
def batchnorm_backward(gy, x, gamma, mean, inv_std):
    return _batchnorm_backward(gy, None, x, gamma, mean, inv_std)


@cuda_kernel("batchnorm", reference.batchnorm_relu_backward,
             supported=lambda gy, y, x, gamma, mean, inv_std: gy.shape == y.shape == x.shape
             and _per_channel(x, gamma, mean, inv_std))
def batchnorm_relu_backward(gy, y, x, gamma, mean, inv_std):
    return _batchnorm_backward(gy, y, x, gamma, mean, inv_std)


# ---------------------------------------------------------------------------------------------- activations

def _bias_relu(x, bias, relu, out=None):
    x, bias = contiguous(x, bias)
    check_index_range("bias_relu_forward", x.size)
    y = empty(x.shape) if out is None else out
    launch("activation", "bias_relu_forward_nhwc", x.size, (x, bias, y, *ints(x.size, x.shape[-1], relu)))
    return y


@cuda_kernel("activation", reference.bias_relu_forward, supported=_is_channel_bias)
def bias_relu_forward(x, bias):
    return _bias_relu(x, bias, relu=True)


@cuda_kernel("activation", reference.relu_backward, supported=lambda gy, y: gy.shape == y.shape)
def relu_backward(gy, y):
    gy, y = contiguous(gy, y)
    check_index_range("relu_backward", gy.size)
    gx = empty(gy.shape)
    launch("activation", "relu_backward_flat", gx.size, (gy, y, gx, *ints(gx.size)))
    return gx


@cuda_kernel("activation", reference.relu_forward, supported=lambda x: True)
def relu_forward(x):
    """The bias+ReLU kernel with one channel and a zero bias."""
    import cupy
    return _bias_relu(x.reshape(-1, 1), cupy.zeros(1, x.dtype), relu=True).reshape(x.shape)


@cuda_kernel("activation", reference.add, supported=lambda a, b: a.shape == b.shape)
def add(a, b):
    """The bias+ReLU kernel without the ReLU, b as a "bias" of a.size channels."""
    return _bias_relu(a.reshape(1, -1), b.reshape(-1), relu=False).reshape(a.shape)


@cuda_kernel("activation", reference.add_relu_forward, supported=lambda a, b: a.shape == b.shape)
def add_relu_forward(a, b):
    """The bias+ReLU kernel with b as a "bias" of a.size channels."""
    return _bias_relu(a.reshape(1, -1), b.reshape(-1), relu=True).reshape(a.shape)


@cuda_kernel("activation", reference.bias_relu_backward, supported=lambda gy, y: gy.shape == y.shape)
def bias_relu_backward(gy, y):
    """The ReLU backward kernel, then CuPy's per-channel sum."""
    gx = relu_backward(gy, y)
    return gx, gx.reshape(-1, gx.shape[-1]).sum(axis=0)


@cuda_kernel("conv", reference.matmul)
def matmul(a, b):
    """cuBLAS, through cupy.matmul."""
    import cupy
    return cupy.matmul(a, b)


@cuda_kernel("activation", reference.dense_forward, supported=lambda x, w, bias, relu: bias.shape == (w.shape[-1],))
def dense_forward(x, w, bias, relu):
    """cuBLAS, then the bias (+ReLU) kernel in place on its output."""
    y = matmul(x, w)
    return _bias_relu(y, bias, relu, out=y)


@cuda_kernel("conv", reference.dense_backward)
def dense_backward(x, w, g, input_grad):
    """cuBLAS GEMMs and CuPy's column sum."""
    return (matmul(g, w.T) if input_grad else None), matmul(x.T, g), g.sum(axis=0)


# ---------------------------------------------------------------------------------------------- softmax

@cuda_kernel("softmax", reference.softmax_forward, supported=lambda x: x.ndim >= 1 and x.size > 0)
def softmax_forward(x):
    (x,) = contiguous(x)
    check_index_range("softmax_forward", x.size)
    classes = x.shape[-1]
    y = empty(x.shape)
    launch("softmax", "softmax_forward_rows", x.size // classes, (x, y, *ints(x.size // classes, classes)),
           per_warp=True)
    return y


@cuda_kernel("softmax", reference.softmax_cross_entropy_forward,
             supported=lambda logits, labels: logits.ndim == 2 and labels.shape == logits.shape[:1])
def softmax_cross_entropy_forward(logits, labels):
    """Labels outside [0, classes) give a NaN loss (the reference raises or wraps, depending on xp)."""
    logits, labels = contiguous(logits, labels.astype(np.int32, copy=False))
    check_index_range("softmax_cross_entropy_forward", logits.size)
    rows, classes = logits.shape
    loss, probabilities = empty((rows,)), empty(logits.shape)
    launch("softmax", "softmax_cross_entropy_forward_rows", rows,
           (logits, labels, loss, probabilities, *ints(rows, classes)), per_warp=True)
    return loss, probabilities


@cuda_kernel("softmax", reference.softmax_cross_entropy_backward,
             supported=lambda p, labels, g_loss: p.ndim == 2 and labels.shape == g_loss.shape == p.shape[:1])
def softmax_cross_entropy_backward(probabilities, labels, g_loss):
    probabilities, labels, g_loss = contiguous(probabilities, labels.astype(np.int32, copy=False), g_loss)
    check_index_range("softmax_cross_entropy_backward", probabilities.size)
    grad = empty(probabilities.shape)
    launch("softmax", "softmax_cross_entropy_backward_rows", grad.size,
           (probabilities, labels, g_loss, grad, *ints(*probabilities.shape)))
    return grad


KERNELS = {name: globals()[name] for name in KERNEL_NAMES}
