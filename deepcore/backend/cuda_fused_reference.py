"""NumPy/CuPy references for the CUDA kernels that have no entry in ``reference.KERNEL_NAMES`` yet.

The convolution with a bias+ReLU epilogue is a composition of the reference
kernels, written out here so the GPU parity tests and the wrapper's float64
fallback have an oracle. It moves to ``reference.py`` once the kernel table
grows its name (BatchNorm+ReLU has: ``reference.batchnorm_relu_*``).
"""
from __future__ import annotations

from . import reference
from .device import get_array_module


def conv2d_bias_relu_forward(x, w, bias, stride, padding, dilation, relu=True):
    """conv2d_forward(x, w) + bias, then ReLU when ``relu``."""
    y = reference.conv2d_forward(x, w, stride, padding, dilation) + bias
    return get_array_module(y).maximum(y, 0) if relu else y
