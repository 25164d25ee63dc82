"""Upsampling of channels-last images: nearest (repeat) and bilinear (half-pixel centers, as
``tf.image.resize`` and ``torch.nn.functional.interpolate(align_corners=False)``)."""
from __future__ import annotations

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module, to_device
from ..backend.device import device_of
from .shape import broadcast_to


def upsample_nearest(x, size):
    """Repeat every entry of the spatial axes 1..len(size) ``size[i]`` times (x: (N, *spatial, C))."""
    spatial = x.shape[1:-1]
    if len(size) != len(spatial):
        raise ValueError(f"upsample_nearest: size {size} does not match the {len(spatial)} spatial axes of "
                         f"{x.shape}")
    split = (x.shape[0],) + tuple(d for n in spatial for d in (n, 1)) + (x.shape[-1],)
    stretched = (x.shape[0],) + tuple(d for n, s in zip(spatial, size) for d in (n, s)) + (x.shape[-1],)
    out = (x.shape[0],) + tuple(n * s for n, s in zip(spatial, size)) + (x.shape[-1],)
    return A.reshape(broadcast_to(A.reshape(x, split), stretched), out)


def linear_resize_matrix(size_in, size_out):
    """(size_out, size_in) weights of 1-D linear interpolation with half-pixel centers, edges clamped."""
    source = np.maximum((np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5, 0)
    low = np.minimum(np.floor(source).astype(int), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    frac = source - low
    matrix = np.zeros((size_out, size_in))
    np.add.at(matrix, (np.arange(size_out), low), 1 - frac)
    np.add.at(matrix, (np.arange(size_out), high), frac)
    return matrix


class ResizeBilinear(Function):
    """y[n, o, p, c] = sum_{h, w} Rh[o, h] Rw[p, w] x[n, h, w, c], one interpolation matrix per axis."""

    def __init__(self, size):
        self.size = size

    def forward(self, x):
        xp = get_array_module(x)
        h, w = x.shape[1:3]
        to = lambda m: to_device(m.astype(x.dtype), device_of(x))
        self.rh = to(linear_resize_matrix(h, h * self.size[0]))
        self.rw = to(linear_resize_matrix(w, w * self.size[1]))
        return xp.einsum("oh,nhwc,pw->nopc", self.rh, x, self.rw, optimize=True)

    def backward(self, g):
        return get_array_module(g).einsum("oh,nopc,pw->nhwc", self.rh, g, self.rw, optimize=True)


def upsample_bilinear2d(x, size):
    if x.ndim != 4:
        raise ValueError(f"upsample_bilinear2d: expected (N, H, W, C), got shape {x.shape}")
    return ResizeBilinear.apply(x, size=tuple(size))
