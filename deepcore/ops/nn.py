"""Dense layers' math, bias addition and dropout."""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import kernels, random, to_device
from ..backend.device import device_of


class Dense(Function):
    """y = x @ w + b over the last axis of x, then max(y, 0) when ``relu``; w is (in, out) as in Keras.
    Forward is one kernel (``dense_forward``: the bias and ReLU applied to each block of the GEMM's output
    as it is computed); backward is the ReLU's mask, then one for the three gradients (``dense_backward``)."""

    def __init__(self, relu=False):
        self.relu = relu

    def forward(self, x, w, b):
        self.x, self.w = x, w
        y = kernels(x).dense_forward(x.reshape(-1, x.shape[-1]), w, b, self.relu)
        self.y = y if self.relu else None
        return y.reshape(*x.shape[:-1], w.shape[-1])

    def backward(self, g):
        table = kernels(g)
        g2 = g.reshape(-1, g.shape[-1])
        if self.relu:
            g2 = table.relu_backward(g2, self.y)
        gx, gw, gb = table.dense_backward(self.x.reshape(-1, self.x.shape[-1]), self.w, g2, self.needs_input_grad[0])
        return (None if gx is None else gx.reshape(self.x.shape)), gw, gb


class BiasAdd(Function):
    """x + b with b broadcast over every axis but the last (channels)."""

    def forward(self, x, b):
        return x + b

    def backward(self, g):
        return g, g.reshape(-1, g.shape[-1]).sum(axis=0)


class BiasReLU(Function):
    """relu(x + b) in one pass (the fused epilogue of Dense and Conv layers)."""

    def forward(self, x, b):
        self.y = kernels(x).bias_relu_forward(x, b)
        return self.y

    def backward(self, g):
        return kernels(g).bias_relu_backward(g, self.y)


class AddReLU(Function):
    """relu(a + b) for a and b of one shape, in one pass (a residual block's end)."""

    def forward(self, a, b):
        self.y = kernels(a).add_relu_forward(a, b)
        return self.y

    def backward(self, g):
        gx = kernels(g).relu_backward(g, self.y)
        return gx, gx


class Dropout(Function):
    """Inverted dropout: keep with probability 1 - rate and scale by 1 / (1 - rate)."""

    def __init__(self, rate, noise_shape=None):
        self.rate, self.noise_shape = rate, noise_shape

    def forward(self, x):
        shape = self.noise_shape or x.shape
        keep = random.generator().random(shape, dtype="float32") >= self.rate
        self.mask = to_device(keep.astype(x.dtype) / (1.0 - self.rate), device_of(x))
        return x * self.mask

    def backward(self, g):
        return g * self.mask


def dense(x, w, b, relu=False):
    """x @ w + b (then ReLU when ``relu``) over the last axis of x."""
    return Dense.apply(x, w, b, relu=relu)


def bias_add(x, b):
    return BiasAdd.apply(x, b)


def bias_relu(x, b):
    return BiasReLU.apply(x, b)


def add_relu(a, b):
    """relu(a + b); one fused pass when a and b have one shape and dtype, else add then relu."""
    if tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype:
        return AddReLU.apply(a, b)
    from .activations import relu
    from ..autograd.arithmetic import add
    return relu(add(a, b))


def dropout(x, rate, training=True, noise_shape=None):
    """Inverted dropout when training; identity otherwise (and when rate == 0)."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if not training or rate == 0:
        return x
    return Dropout.apply(x, rate=rate, noise_shape=noise_shape)
