"""NumPy/CuPy references for the CUDA kernels that have no entry in ``reference.KERNEL_NAMES`` yet.

The fused kernel (convolution with a bias+ReLU epilogue) and the multi-tensor
optimizer updates are compositions of the reference kernels
and of the update rules in ``deepcore/optimizers.py``, written out here so the
GPU parity tests and the wrappers' float64 fallback have an oracle. They move
to ``reference.py`` once the kernel table grows these names (as BatchNorm+ReLU
did: ``reference.batchnorm_relu_*``).
"""
from __future__ import annotations

import math

from . import reference
from .device import get_array_module


def conv2d_bias_relu_forward(x, w, bias, stride, padding, dilation, relu=True):
    """conv2d_forward(x, w) + bias, then ReLU when ``relu``."""
    y = reference.conv2d_forward(x, w, stride, padding, dilation) + bias
    return get_array_module(y).maximum(y, 0) if relu else y


def sgd_momentum_update(weights, grads, velocities, learning_rate, momentum, nesterov=False):
    """In place, per tensor, as ``optimizers.SGD.update``: v = m v - lr g; w += v (or m v - lr g, Nesterov)."""
    for w, g, velocity in zip(weights, grads, velocities):
        if momentum == 0:
            w -= learning_rate * g
            continue
        velocity *= momentum
        velocity -= learning_rate * g
        if nesterov:
            w += momentum * velocity - learning_rate * g
        else:
            w += velocity


def adam_step_size(learning_rate, beta_1, beta_2, iteration):
    """lr * sqrt(1 - beta_2^t) / (1 - beta_1^t): Adam's bias correction folded into the step (t from 1)."""
    return learning_rate * math.sqrt(1 - beta_2 ** iteration) / (1 - beta_1 ** iteration)


def adam_update(weights, grads, firsts, seconds, step_size, beta_1, beta_2, epsilon):
    """In place, per tensor, as ``optimizers.Adam.update`` with ``step_size`` from ``adam_step_size``."""
    for w, g, m, v in zip(weights, grads, firsts, seconds):
        xp = get_array_module(w)
        m *= beta_1
        m += (1 - beta_1) * g
        v *= beta_2
        v += (1 - beta_2) * (g * g)
        w -= step_size * m / (xp.sqrt(v) + epsilon)
