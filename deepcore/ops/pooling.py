"""Max and average pooling 1-D/2-D/3-D, channels last (Keras semantics: 'same' averages count real pixels only).

2-D pooling runs on the device's kernels; 1-D is 2-D with height 1 and 3-D is two 2-D passes.
"""
from __future__ import annotations

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import kernels
from ..backend.reference import conv_output_size
from .conv import pair, resolve_padding


class MaxPool2D(Function):
    def __init__(self, pool, stride, padding):
        self.pool, self.stride, self.padding = pool, stride, padding

    def forward(self, x):
        self.x_shape = x.shape
        y, self.argmax = kernels(x).maxpool2d_forward(x, self.pool, self.stride, self.padding)
        return y

    def backward(self, gy):
        return kernels(gy).maxpool2d_backward(gy, self.argmax, self.x_shape, self.pool, self.stride, self.padding)


class AvgPool2D(Function):
    def __init__(self, pool, stride, padding):
        self.pool, self.stride, self.padding = pool, stride, padding

    def forward(self, x):
        self.x_shape = x.shape
        return kernels(x).avgpool2d_forward(x, self.pool, self.stride, self.padding)

    def backward(self, gy):
        return kernels(gy).avgpool2d_backward(gy, self.x_shape, self.pool, self.stride, self.padding)


def _pool_args(x, pool_size, strides, padding, name):
    pool = pair(pool_size, "pool_size")
    stride = pool if strides is None else pair(strides, "strides")
    if min(pool) < 1 or min(stride) < 1:
        raise ValueError(f"{name}: pool_size and strides must be >= 1, got {pool} and {stride}")
    if x.ndim != 4:
        raise ValueError(f"{name}: expected input of rank 4 (N, H, W, C), got shape {x.shape}")
    pads = resolve_padding(padding, x.shape[1:3], pool, stride)
    for axis in range(2):
        if conv_output_size(x.shape[1 + axis], pool[axis], stride[axis], *pads[axis]) < 1:
            raise ValueError(f"{name}: input {x.shape} is smaller than pool_size {pool} with padding {padding!r}")
    return dict(pool=pool, stride=stride, padding=pads)


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    return MaxPool2D.apply(x, **_pool_args(x, pool_size, strides, padding, "max_pool2d"))


def avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    return AvgPool2D.apply(x, **_pool_args(x, pool_size, strides, padding, "avg_pool2d"))


def _pool1d(op, x, pool_size, strides, padding):
    if x.ndim != 3:
        raise ValueError(f"{op.__name__.replace('2d', '1d')}: expected input of rank 3 (N, steps, C), got {x.shape}")
    pool = pool_size if isinstance(pool_size, int) else pool_size[0]
    stride = pool if strides is None else (strides if isinstance(strides, int) else strides[0])
    y = op(A.reshape(x, (x.shape[0], 1) + x.shape[1:]), (1, pool), (1, stride), padding)
    return A.reshape(y, (y.shape[0],) + y.shape[2:])


def _pool3d(op, x, pool_size, strides, padding):
    """A 3-D max or average window is separable: pool (h, w) per depth slice, then pool depth.

    Exact for both, 'same' included: padding never wins a max, and an average over a box of real pixels
    is the average over depth of the per-slice averages (Keras counts real pixels only).
    """
    if x.ndim != 5:
        raise ValueError(f"{op.__name__.replace('2d', '3d')}: expected input of rank 5 (N, D, H, W, C), got {x.shape}")
    pool = (pool_size,) * 3 if isinstance(pool_size, int) else tuple(pool_size)
    stride = pool if strides is None else ((strides,) * 3 if isinstance(strides, int) else tuple(strides))
    n, d, h, w, c = x.shape
    y = op(A.reshape(x, (n * d, h, w, c)), pool[1:], stride[1:], padding)
    ho, wo = y.shape[1:3]
    y = op(A.reshape(y, (n, d, ho * wo, c)), (pool[0], 1), (stride[0], 1), padding)
    return A.reshape(y, (n, y.shape[1], ho, wo, c))


def max_pool1d(x, pool_size=2, strides=None, padding="valid"):
    return _pool1d(max_pool2d, x, pool_size, strides, padding)


def avg_pool1d(x, pool_size=2, strides=None, padding="valid"):
    return _pool1d(avg_pool2d, x, pool_size, strides, padding)


def max_pool3d(x, pool_size=2, strides=None, padding="valid"):
    return _pool3d(max_pool2d, x, pool_size, strides, padding)


def avg_pool3d(x, pool_size=2, strides=None, padding="valid"):
    return _pool3d(avg_pool2d, x, pool_size, strides, padding)
