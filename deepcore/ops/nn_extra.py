"""keras.ops' nn part with Keras' signatures and semantics, over deepcore's kernels.

Where the internal op differs from Keras', the function here is what ``dc.ops`` exports:
``conv``/``max_pool``/``average_pool`` dispatch on rank and take ``data_format``;
``binary_crossentropy`` is elementwise and the categorical ones keep the target's shape (the
mean over the last axis is ``dc.losses``'s business); ``gelu`` defaults to the tanh approximation.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module
from . import activations as act
from . import losses as L
from .conv import conv2d_transpose
from .conv_nd import conv as conv_nd
from .conv_nd import depthwise_conv as depthwise_conv_nd
from .core import constant, floating, operands
from .numpy_layout import moveaxis
from .numpy_math import clip, maximum, sqrt, where
from .numpy_reduce import _axes
from .pooling import avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d
from .reduction import ReduceMax


def _channels_last(x, data_format):
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return moveaxis(x, 1, -1) if data_format == "channels_first" else x


def _back(y, data_format):
    return moveaxis(y, -1, 1) if data_format == "channels_first" else y


# --- activations -------------------------------------------------------------------------------

def gelu(x, approximate=True):
    return act.gelu(floating(x), approximate=approximate)


def log_sigmoid(x):
    """-softplus(-x), stable for large |x|."""
    return A.neg(act.softplus(A.neg(floating(x))))


def celu(x, alpha=1.0):
    """max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0) (Barron 2017)."""
    x = floating(x)
    return A.mul(act.elu(A.mul(x, 1.0 / alpha)), alpha)


def glu(x, axis=-1):
    """a * sigmoid(b) for x split in halves [a, b] along ``axis`` (Dauphin et al. 2017)."""
    from .numpy_layout import split
    x = floating(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} of shape {x.shape} must have an even size")
    a, b = split(x, 2, axis=axis)
    return A.mul(a, act.sigmoid(b))


def hard_tanh(x):
    return clip(floating(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    x = floating(x)
    return where(get_array_module(x.data).abs(x.data) > threshold, x, 0.0)


def soft_shrink(x, threshold=0.5):
    x = floating(x)
    return A.sub(x, clip(x, -threshold, threshold))


def tanh_shrink(x):
    x = floating(x)
    return A.sub(x, act.tanh(x))


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2 (Barron 2021)."""
    x = floating(x)
    return A.mul(A.add(x, sqrt(A.add(A.mul(x, x), float(b)))), 0.5)


def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for |x| < 1, x for x >= 1."""
    x = floating(x)
    inside = A.mul(A.mul(A.add(x, 1.0), A.add(x, 1.0)), 0.25)
    xp = get_array_module(x.data)
    return where(x.data >= 1, x, where(x.data <= -1, xp.zeros((), x.dtype), inside))


def threshold(x, threshold, default_value):  # noqa: A002 - Keras' argument name
    x = floating(x)
    return where(x.data > threshold, x, float(default_value))


class Sparsemax(Function):
    """Martins & Astudillo 2016: the Euclidean projection onto the simplex; backward g - mean over the support."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        z = xp.moveaxis(x, self.axis, -1)
        ordered = -xp.sort(-z, axis=-1)
        k = xp.arange(1, z.shape[-1] + 1, dtype=x.dtype)
        cumulative = xp.cumsum(ordered, axis=-1)
        support = (1 + k * ordered > cumulative)
        size = support.sum(axis=-1, keepdims=True)
        tau = (xp.take_along_axis(cumulative, size - 1, axis=-1) - 1) / size
        y = xp.maximum(z - tau, 0)
        self.y = xp.moveaxis(y, -1, self.axis)
        return self.y

    def backward(self, g):
        support = (self.y > 0).astype(g.dtype)
        mean = (g * support).sum(axis=self.axis, keepdims=True) / support.sum(axis=self.axis, keepdims=True)
        return support * (g - mean)


def sparsemax(x, axis=-1):
    return Sparsemax.apply(floating(x), axis=axis)


# --- convolution and pooling ----------------------------------------------------------------

def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (1 to 3 spatial axes), kernel (*spatial, in, out)."""
    x, w = operands(floating(inputs), floating(kernel))
    y = conv_nd(_channels_last(x, data_format), w, strides, padding, dilation_rate)
    return _back(y, data_format)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """kernel (*spatial, in, depth_multiplier)."""
    x, w = operands(floating(inputs), floating(kernel))
    return _back(depthwise_conv_nd(_channels_last(x, data_format), w, strides, padding, dilation_rate), data_format)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    x, dw, pw = operands(floating(inputs), floating(depthwise_kernel), floating(pointwise_kernel))
    y = depthwise_conv_nd(_channels_last(x, data_format), dw, strides, padding, dilation_rate)
    return _back(conv_nd(y, pw, 1, "valid", 1), data_format)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    """2-D transposed convolution, kernel (kh, kw, out, in) as Keras."""
    x, w = operands(floating(inputs), floating(kernel))
    x = _channels_last(x, data_format)
    if x.ndim != 4:
        raise ValueError(f"conv_transpose: only 2-D (rank-4 input) is supported, got shape {x.shape}")
    return _back(conv2d_transpose(x, w, strides, padding, output_padding, dilation_rate), data_format)


_POOLS = {"max": {3: max_pool1d, 4: max_pool2d, 5: max_pool3d},
          "average": {3: avg_pool1d, 4: avg_pool2d, 5: avg_pool3d}}


def _pool(kind, inputs, pool_size, strides, padding, data_format):
    x = _channels_last(floating(inputs), data_format)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{kind}_pool: expected input of rank 3 to 5 (batch, *spatial, channels), got {x.shape}")
    return _back(_POOLS[kind][x.ndim](x, pool_size, strides, padding), data_format)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("average", inputs, pool_size, strides, padding, data_format)


# --- normalization --------------------------------------------------------------------------

def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) over ``axes``; variance is the biased one, as Keras."""
    from .numpy_reduce import mean, var
    return mean(x, axes, keepdims), var(x, axes, keepdims)


def _along(v, x, axis):
    """A vector of size x.shape[axis] shaped to broadcast against x on that axis."""
    shape = [1] * x.ndim
    shape[axis % x.ndim] = x.shape[axis]
    (v,) = operands(v)
    return A.reshape(v, tuple(shape)) if v.ndim == 1 else v


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset; the statistics are vectors along ``axis``."""
    x = floating(x)
    (mean, variance) = operands(x, mean, variance)[1:]
    for name, v in (("mean", mean), ("variance", variance)):
        if v.ndim == 1 and v.shape[0] != x.shape[axis]:
            raise ValueError(f"batch_normalization: {name} of shape {v.shape} does not match axis {axis} of {x.shape}")
    inv = A.div(1.0, sqrt(A.add(_along(variance, x, axis), epsilon)))
    if scale is not None:
        inv = A.mul(inv, _along(scale, x, axis))
    y = A.mul(A.sub(x, _along(mean, x, axis)), inv)
    return y if offset is None else A.add(y, _along(offset, x, axis))


def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(norm(x, order, axis), epsilon)."""
    from .linalg import norm
    x = floating(x)
    return A.div(x, maximum(norm(x, ord=order, axis=axis, keepdims=True), 1e-12 if epsilon is None else epsilon))


def rms_normalization(x, scale=1, axis=-1, epsilon=None):
    x = floating(x)
    ms = A.mean(A.mul(x, x), axis=_axes(x, axis, "rms_normalization"), keepdims=True)
    y = A.mul(x, A.power(A.add(ms, 1e-7 if epsilon is None else epsilon), -0.5))
    return A.mul(y, scale) if not (isinstance(scale, (int, float)) and scale == 1) else y


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    from .normalization import layer_norm
    x = floating(x)
    return layer_norm(x, gamma, beta, _axes(x, axis, "layer_normalization"), 1e-3 if epsilon is None else epsilon)


# --- losses with Keras' ops semantics -------------------------------------------------------

def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -(t log p + (1 - t) log(1 - p)) (keras.ops: no mean over the last axis)."""
    output = floating(output)
    (target,) = operands(target)
    t = target.data.astype(output.dtype, copy=False)
    if t.shape != output.shape:
        raise ValueError(f"binary_crossentropy: target shape {t.shape} != output shape {output.shape}")
    if from_logits:
        return L.SigmoidCrossEntropy.apply(output, target=t)
    p = L.Clip.apply(output, low=L.EPSILON, high=1 - L.EPSILON)
    return A.neg(A.add(A.mul(t, A.log(p)), A.mul(1 - t, A.log(A.sub(1.0, p)))))


def _last(tensor, axis):
    return tensor if axis in (-1, tensor.ndim - 1) else moveaxis(tensor, axis, -1)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = floating(output)
    (target,) = operands(target)
    if target.shape != output.shape:
        raise ValueError(f"categorical_crossentropy: target shape {target.shape} != output shape {output.shape}")
    t, o = _last(target, axis), _last(output, axis)
    lead = o.shape[:-1]
    flat = L.categorical_crossentropy(A.reshape(t, (-1, t.shape[-1])), A.reshape(o, (-1, o.shape[-1])), from_logits)
    return A.reshape(flat, lead)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = floating(output)
    (target,) = operands(target)
    o = _last(output, axis)
    if target.ndim == o.ndim and target.shape[-1] == 1:
        target = A.reshape(target, target.shape[:-1])
    if tuple(target.shape) != o.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: target shape {target.shape} must be output shape "
                         f"{output.shape} without the class axis")
    if o.ndim == 2:  # as is, so a softmax output still takes the fused logits path
        return L.sparse_categorical_crossentropy(target.data, o, from_logits)
    flat = L.sparse_categorical_crossentropy(target.data.reshape(-1), A.reshape(o, (-1, o.shape[-1])), from_logits)
    return A.reshape(flat, o.shape[:-1])


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in dB: 20 log10(max_val) - 10 log10(mse)."""
    a, b = operands(floating(x1), floating(x2))
    if a.shape != b.shape:
        raise ValueError(f"psnr: shapes {a.shape} and {b.shape} differ")
    diff = A.sub(a, b)
    mse = A.mean(A.mul(diff, diff))
    return A.sub(20 * math.log10(max_val), A.mul(A.log(mse), 10 / math.log(10)))


# --- segments, windows, top-k membership ---------------------------------------------------

def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    from .core import scatter
    (data,) = operands(data)
    ids = np.asarray(segment_ids.numpy() if hasattr(segment_ids, "numpy") else segment_ids).astype(np.int64)
    if ids.ndim != 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"segment_sum: segment_ids must be a vector of length {data.shape[0]}, got {ids.shape}")
    count = int(num_segments) if num_segments is not None else int(ids.max()) + 1
    keep = (ids >= 0) & (ids < count)
    xp = get_array_module(data.data)
    return scatter(xp.asarray(ids[keep][:, None]), A.getitem(data, xp.asarray(np.nonzero(keep)[0])),
                   (count,) + data.shape[1:])


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """Per-segment maximum (empty segments give the dtype's lowest value, as TensorFlow)."""
    from .numpy_layout import stack
    (data,) = operands(data)
    ids = np.asarray(segment_ids.numpy() if hasattr(segment_ids, "numpy") else segment_ids).astype(np.int64)
    count = int(num_segments) if num_segments is not None else int(ids.max()) + 1
    xp = get_array_module(data.data)
    lowest = np.finfo(data.dtype).min if data.dtype.kind == "f" else np.iinfo(data.dtype).min
    rows = []
    for s in range(count):
        members = np.nonzero(ids == s)[0]
        rows.append(ReduceMax.apply(A.getitem(data, xp.asarray(members)), axis=0) if members.size else
                    constant(xp.full(data.shape[1:], lowest, data.dtype)))
    return stack(rows, axis=0)


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: (..., n) -> (..., frames, sequence_length)."""
    from .numpy_layout import rearrange
    (x,) = operands(x)
    n = x.shape[-1]
    if sequence_length > n:
        raise ValueError(f"extract_sequences: sequence_length {sequence_length} exceeds the last axis ({n})")
    starts = np.arange(0, n - sequence_length + 1, sequence_stride)
    columns = starts[:, None] + np.arange(sequence_length)
    xp = get_array_module(x.data)
    return rearrange(x, lambda p: p[..., xp.asarray(columns)])


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is among the k largest (ties count as in, as TensorFlow)."""
    t, p = operands(targets, predictions)
    xp = get_array_module(p.data)
    target_scores = xp.take_along_axis(p.data, t.data.astype(np.int64)[:, None], axis=-1)
    return constant((p.data > target_scores).sum(axis=-1) < k)

