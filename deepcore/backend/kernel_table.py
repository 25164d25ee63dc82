"""One kernel table per device: the fast versions where they exist, else the reference.

``kernels(x)`` returns the table for the device ``x`` lives on. Every name in
``reference.KERNEL_NAMES`` is present on every device: the CPU table takes
``cpu_kernels.KERNELS`` (numba/BLAS), the GPU table ``cuda_kernels.KERNELS``
(CUDA), and anything missing falls back to the generic ``xp`` reference of
that same device, never to another device. ``DEEPCORE_KERNELS=reference``
forces the reference everywhere; ``DEEPCORE_DEBUG=1`` logs which path ran.
"""
from __future__ import annotations

import functools
import logging
import os
import types

import numpy as np

from . import reference
from .device import get_array_module

KERNEL_NAMES = (
    "conv2d_forward", "conv2d_bias_relu_forward", "conv2d_backward_data", "conv2d_backward_filter",
    "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward",
    "batchnorm_forward_train", "batchnorm_forward_infer", "batchnorm_backward",
    "batchnorm_relu_forward_train", "batchnorm_relu_forward_infer", "batchnorm_relu_backward",
    "matmul", "dense_forward", "dense_backward",
    "add", "relu_forward", "bias_relu_forward", "add_relu_forward", "relu_backward", "bias_relu_backward",
    "softmax_forward", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
    "sgd_momentum_update", "adam_update",
)

log = logging.getLogger("deepcore.kernels")


def _logged(name, path, fn):
    def run(*args, **kwargs):
        log.debug("%s -> %s", name, path)
        return fn(*args, **kwargs)
    return run


@functools.lru_cache(maxsize=None)
def kernel_table(device_name: str) -> types.SimpleNamespace:
    """The kernel table of ``'cpu'`` or ``'gpu'``; each entry records its path in ``.paths``."""
    fast = {}
    if os.environ.get("DEEPCORE_KERNELS", "").lower() != "reference":
        if device_name == "cpu":
            from . import cpu_kernels as module
            path = "numba"
        else:
            from . import cuda_kernels as module
            path = "cuda"
        fast = module.KERNELS
    debug = os.environ.get("DEEPCORE_DEBUG") == "1"
    if debug:
        logging.basicConfig(level=logging.DEBUG)
    table, paths = {}, {}
    for name in KERNEL_NAMES:
        fn, paths[name] = (fast[name], path) if name in fast else (getattr(reference, name), "reference")
        table[name] = _logged(name, paths[name], fn) if debug else fn
    return types.SimpleNamespace(paths=paths, **table)


def kernels(array):
    """The kernel table of the device ``array`` lives on."""
    return kernel_table("cpu" if get_array_module(array) is np else "gpu")
