"""Convolution over 1, 2 or 3 spatial axes with groups, channels last, filters (*kernel, in / groups, out).

Ungrouped 1-D and 2-D convolutions run on the device's conv2d kernels (a 1-D
signal is an image of height 1). Everything else (3-D, groups > 1, depthwise)
is the generic ``ConvND`` below: an N-d im2col and one batched GEMM per call,
group g seeing input channels [g*Cg, (g+1)*Cg) and making outputs
[g*Og, (g+1)*Og), as Keras/TensorFlow and PyTorch; one channel per group
(depthwise) is ``DepthwiseConvND``, elementwise sums per kernel offset.
"""
from __future__ import annotations

import itertools
import math

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module
from ..backend.reference import conv_output_size
from .conv import conv2d, resolve_padding
from .shape import pad


def im2col_nd(x, kernel, stride, padding, dilation):
    """(N, *spatial, C) -> (N, *out, *kernel, C): every kernel offset's strided view, stacked."""
    xp = get_array_module(x)
    xpad = xp.pad(x, ((0, 0),) + tuple(padding) + ((0, 0),))
    out = [conv_output_size(n, k, s, a, b, d)
           for n, k, s, (a, b), d in zip(x.shape[1:-1], kernel, stride, padding, dilation)]
    cols = xp.empty((x.shape[0], *out, *kernel, x.shape[-1]), dtype=x.dtype)
    rank = len(kernel)
    for offset in itertools.product(*(range(k) for k in kernel)):
        window = tuple(slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o in zip(offset, dilation, stride, out))
        cols[(slice(None),) * (rank + 1) + offset] = xpad[(slice(None),) + window]
    return cols


def col2im_nd(cols, x_shape, stride, padding, dilation):
    """The adjoint of im2col_nd: scatter-add every offset's view back into an (N, *spatial, C) array."""
    xp = get_array_module(cols)
    rank = len(stride)
    out, kernel = cols.shape[1:1 + rank], cols.shape[1 + rank:1 + 2 * rank]
    padded = (x_shape[0],) + tuple(n + a + b for n, (a, b) in zip(x_shape[1:-1], padding)) + (x_shape[-1],)
    gx = xp.zeros(padded, dtype=cols.dtype)
    for offset in itertools.product(*(range(k) for k in kernel)):
        window = tuple(slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o in zip(offset, dilation, stride, out))
        gx[(slice(None),) + window] += cols[(slice(None),) * (rank + 1) + offset]
    return gx[(slice(None),) + tuple(slice(a, a + n) for n, (a, _) in zip(x_shape[1:-1], padding))]


class ConvND(Function):
    """y[..., g*Og + j] = sum over kernel offsets and the group's Cg channels: one GEMM per group, batched.

    The input is moved group-major once, (G*N, *spatial, Cg), so im2col writes each group's columns
    contiguously: (G, N*out, K*Cg) is then a free reshape, not a copy of the K-times larger columns.
    """

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def _group_major(self, x):
        """(N, *S, G*Cg) -> (G*N, *S, Cg)."""
        rank, g = x.ndim - 2, self.groups
        xg = x.reshape(x.shape[:-1] + (g, x.shape[-1] // g))
        xg = xg.transpose((rank + 1, 0) + tuple(range(1, rank + 1)) + (rank + 2,))
        return get_array_module(x).ascontiguousarray(xg).reshape((-1,) + x.shape[1:-1] + (x.shape[-1] // g,))

    def _grouped_cols(self, x, kernel):
        cols = im2col_nd(self._group_major(x), kernel, self.stride, self.padding, self.dilation)
        self.out = cols.shape[1:1 + len(kernel)]
        return cols.reshape(self.groups, -1, math.prod(kernel) * cols.shape[-1])  # (G, N*out, K*Cg)

    def _grouped_w(self, w):
        g, og = self.groups, w.shape[-1] // self.groups
        return w.reshape(-1, g, og).transpose(1, 0, 2)  # (G, K*Cg, Og)

    def forward(self, x, w):
        self.x, self.w = x, w
        y = self._grouped_cols(x, w.shape[:-2]) @ self._grouped_w(w)  # (G, M, Og)
        return y.transpose(1, 0, 2).reshape((x.shape[0], *self.out, w.shape[-1]))

    def backward(self, gy):
        xp = get_array_module(gy)
        g, kernel, rank = self.groups, self.w.shape[:-2], self.w.ndim - 2
        gy_g = xp.ascontiguousarray(gy.reshape(-1, g, gy.shape[-1] // g).transpose(1, 0, 2))  # (G, M, Og)
        gx = gw = None
        if self.needs_input_grad[0]:
            cg = self.w.shape[-2]
            gcols = (gy_g @ self._grouped_w(self.w).transpose(0, 2, 1)).reshape((-1, *self.out, *kernel, cg))
            n, spatial = self.x.shape[0], self.x.shape[1:-1]
            gxg = col2im_nd(gcols, (g * n, *spatial, cg), self.stride, self.padding, self.dilation)
            gxg = gxg.reshape((g, n, *spatial, cg)).transpose((1,) + tuple(range(2, rank + 2)) + (0, rank + 2))
            gx = gxg.reshape(self.x.shape)
        if self.needs_input_grad[1]:
            gw_g = self._grouped_cols(self.x, kernel).transpose(0, 2, 1) @ gy_g  # (G, K*Cg, Og)
            gw = gw_g.transpose(1, 0, 2).reshape(self.w.shape)
        return gx, gw


class DepthwiseConvND(Function):
    """Groups of one input channel, w (*kernel, C, M): y[..., c*M + m] = sum over offsets of
    window[..., c] * w[offset][c, m]. Elementwise sums per kernel offset instead of C tiny GEMMs."""

    def __init__(self, stride, padding, dilation):
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def _windows(self, padded_shape, kernel):
        out = [conv_output_size(n, k, s, 0, 0, d)
               for n, k, s, d in zip(padded_shape[1:-1], kernel, self.stride, self.dilation)]
        for offset in itertools.product(*(range(k) for k in kernel)):
            yield offset, (slice(None),) + tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                                                 for i, d, s, o in zip(offset, self.dilation, self.stride, out))

    def forward(self, x, w):
        xp = get_array_module(x)
        self.x, self.w = x, w
        self.xpad = xp.pad(x, ((0, 0),) + tuple(self.padding) + ((0, 0),))
        y = 0
        for offset, window in self._windows(self.xpad.shape, w.shape[:-2]):
            y = y + self.xpad[window][..., None] * w[offset]
        return y.reshape(y.shape[:-2] + (-1,))

    def backward(self, gy):
        xp = get_array_module(gy)
        c, m = self.w.shape[-2:]
        g = gy.reshape(gy.shape[:-1] + (c, m))
        gxpad = xp.zeros_like(self.xpad) if self.needs_input_grad[0] else None
        gw = xp.empty_like(self.w)
        for offset, window in self._windows(self.xpad.shape, self.w.shape[:-2]):
            if gxpad is not None:
                gxpad[window] += (g * self.w[offset]).sum(axis=-1)
            gw[offset] = xp.einsum("pc,pcm->cm", self.xpad[window].reshape(-1, c), g.reshape(-1, c, m))
        gx = None if gxpad is None else \
            gxpad[(slice(None),) + tuple(slice(a, a + n) for n, (a, _) in zip(self.x.shape[1:-1], self.padding))]
        return gx, gw


def _tuple(value, rank, name):
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or not all(isinstance(v, int) and v >= 1 for v in values):
        raise ValueError(f"conv: {name} must be a positive int or {rank} of them, got {value!r}")
    return values


def conv(x, w, strides=1, padding="valid", dilation_rate=1, groups=1):
    """Keras' ``ops.conv``, channels last: x (N, *spatial, C), w (*kernel, C / groups, out).

    ``padding`` is 'valid', 'same' (TensorFlow's split) or, for 1-D, 'causal' (all padding before).
    """
    rank = w.ndim - 2
    if rank not in (1, 2, 3) or x.ndim != rank + 2:
        raise ValueError(f"conv: expected x (N, *spatial, C) and w (*kernel, C/groups, out) with 1 to 3 spatial "
                         f"axes, got {x.shape} and {w.shape}")
    stride, dilation = _tuple(strides, rank, "strides"), _tuple(dilation_rate, rank, "dilation_rate")
    if not isinstance(groups, int) or groups < 1 or x.shape[-1] != w.shape[-2] * groups or w.shape[-1] % groups:
        raise ValueError(f"conv: input channels {x.shape[-1]} must equal w.shape[-2] ({w.shape[-2]}) * groups "
                         f"({groups}) and output channels {w.shape[-1]} must be a multiple of groups")
    if padding == "causal":
        if rank != 1:
            raise ValueError("conv: padding='causal' is for 1-D convolutions only")
        x = pad(x, ((0, 0), ((w.shape[0] - 1) * dilation[0], 0), (0, 0)))
        padding = "valid"
    pads = resolve_padding(padding, x.shape[1:-1], w.shape[:-2], stride, dilation)
    for n, k, s, p, d in zip(x.shape[1:-1], w.shape[:-2], stride, pads, dilation):
        if conv_output_size(n, k, s, *p, d) < 1:
            raise ValueError(f"conv: input {x.shape} is smaller than the kernel {w.shape[:-2]} (dilation "
                             f"{dilation}) with padding {padding!r}")
    if groups == 1 and rank == 2:
        return conv2d(x, w, stride, padding, dilation)
    if groups == 1 and rank == 1:
        y = conv2d(A.reshape(x, (x.shape[0], 1) + x.shape[1:]), A.reshape(w, (1,) + w.shape), (1,) + stride,
                   padding, (1,) + dilation)
        return A.reshape(y, (y.shape[0],) + y.shape[2:])
    if groups > 1 and groups == x.shape[-1]:
        w = A.reshape(w, w.shape[:-2] + (groups, w.shape[-1] // groups))
        return DepthwiseConvND.apply(x, w, stride=stride, padding=pads, dilation=dilation)
    return ConvND.apply(x, w, stride=stride, padding=pads, dilation=dilation, groups=groups)


def conv1d(x, w, strides=1, padding="valid", dilation_rate=1, groups=1):
    return conv(x, w, strides, padding, dilation_rate, groups)


def conv3d(x, w, strides=1, padding="valid", dilation_rate=1, groups=1):
    return conv(x, w, strides, padding, dilation_rate, groups)


def depthwise_conv(x, w, strides=1, padding="valid", dilation_rate=1):
    """Each input channel c convolved with its own w[..., c, :] (depth_multiplier M); outputs c*M + m."""
    c, m = w.shape[-2:]
    if x.shape[-1] != c:
        raise ValueError(f"depthwise_conv: input channels {x.shape[-1]} != kernel channels {c} (w {w.shape})")
    return conv(x, A.reshape(w, w.shape[:-2] + (1, c * m)), strides, padding, dilation_rate, groups=c)
