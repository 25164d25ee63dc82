"""Max and average pooling 2-D, NHWC (Keras semantics: 'same' averages count real pixels only)."""
from __future__ import annotations

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
