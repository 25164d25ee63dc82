"""keras.ops' reductions and scans: sum, mean, prod, var, std, logsumexp, cumsum, cumprod, quantiles,
arg-reductions and boolean reductions.

``axis`` is None (every axis), an int or a tuple of ints, as NumPy. Composite reductions (var,
std, logsumexp, quantile) are built from differentiable ops; prod and the two scans have their
own backward.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module
from .core import constant, floating, operands
from .reduction import ReduceMax
from .shape import broadcast_to


def _axes(x, axis, name):
    """``axis`` as a sorted tuple of non-negative axes (None -> every axis)."""
    if axis is None:
        return tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -x.ndim <= a < builtins.max(x.ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of range for input of shape {x.shape}")
    return tuple(sorted({int(a) % builtins.max(x.ndim, 1) for a in axes}))


def sum(x, axis=None, keepdims=False):  # noqa: A001 - mirrors keras.ops.sum
    (x,) = operands(x)
    return A.sum(x, axis=_axes(x, axis, "sum"), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    x = floating(x)
    return A.mean(x, axis=_axes(x, axis, "mean"), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - mirrors keras.ops.max
    (x,) = operands(x)
    y = ReduceMax.apply(x, axis=_axes(x, axis, "max"), keepdims=keepdims)
    return y if initial is None else _extreme_with_initial(y, initial, 1)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 - mirrors keras.ops.min
    (x,) = operands(x)
    y = ReduceMax.apply(x, axis=_axes(x, axis, "min"), keepdims=keepdims, sign=-1)
    return y if initial is None else _extreme_with_initial(y, initial, -1)


def _extreme_with_initial(y, initial, sign):
    from .numpy_math import maximum, minimum
    return maximum(y, initial) if sign > 0 else minimum(y, initial)


amax, amin = max, min


class Prod(Function):
    """Product over axes; d/dx_i is the product of every other factor (exact with zeros: a prefix
    product times a suffix product over the flattened reduced axes)."""

    def __init__(self, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x):
        self.x = x
        return x.prod(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        xp = get_array_module(g)
        x = self.x
        kept = [a for a in range(x.ndim) if a not in self.axes]
        moved = x.transpose(kept + list(self.axes))
        flat = moved.reshape(moved.shape[:len(kept)] + (-1,))
        ones = xp.ones(flat.shape[:-1] + (1,), x.dtype)
        before = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
        others = (before * after).reshape(moved.shape)
        inverse = np.argsort(kept + list(self.axes))
        g = g if self.keepdims else xp.expand_dims(g, self.axes)
        return others.transpose(inverse) * g


def prod(x, axis=None, keepdims=False, dtype=None):
    (x,) = operands(x)
    x = x if dtype is None else A.cast(x, np.dtype(dtype))
    return Prod.apply(x, axes=_axes(x, axis, "prod"), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    x = floating(x)
    axes = _axes(x, axis, "var")
    centered = A.sub(x, A.mean(x, axis=axes, keepdims=True))
    return A.mean(A.mul(centered, centered), axis=axes, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    from .numpy_math import sqrt
    return sqrt(var(x, axis, keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the (constant) maximum."""
    x = floating(x)
    axes = _axes(x, axis, "logsumexp")
    xp = get_array_module(x.data)
    m = x.data.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    total = A.log(A.sum(A.exp(A.sub(x, m)), axis=axes, keepdims=True))
    y = A.add(total, m)
    return y if keepdims else A.reshape(y, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def average(x, axis=None, weights=None):
    if weights is None:
        return mean(x, axis)
    x, weights = operands(floating(x), floating(weights))
    axes = _axes(x, axis, "average")
    if weights.shape != x.shape:
        if axis is None or weights.ndim != 1 or len(axes) != 1 or weights.shape[0] != x.shape[axes[0]]:
            raise ValueError(f"average: weights of shape {weights.shape} do not fit input {x.shape} on axis {axis}")
        shape = [1] * x.ndim
        shape[axes[0]] = weights.shape[0]
        weights = A.reshape(weights, tuple(shape))
    return A.div(A.sum(A.mul(x, weights), axis=axes), A.sum(broadcast_to(weights, x.shape), axis=axes))


class CumSum(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return get_array_module(x).cumsum(x, axis=self.axis)

    def backward(self, g):
        xp = get_array_module(g)
        return xp.flip(xp.cumsum(xp.flip(g, self.axis), axis=self.axis), self.axis)


class CumProd(Function):
    """Backward as TensorFlow's: reverse cumsum(g * y) / x (inputs without zeros)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        self.x = x
        self.y = get_array_module(x).cumprod(x, axis=self.axis)
        return self.y

    def backward(self, g):
        xp = get_array_module(g)
        return xp.flip(xp.cumsum(xp.flip(g * self.y, self.axis), axis=self.axis), self.axis) / self.x


def _scan(cls, x, axis, dtype, name):
    (x,) = operands(x)
    x = x if dtype is None else A.cast(x, np.dtype(dtype))
    if axis is None:
        x, axis = A.reshape(x, (-1,)), 0
    return cls.apply(x, axis=_axes(x, axis, name)[0])


def cumsum(x, axis=None, dtype=None):
    return _scan(CumSum, x, axis, dtype, "cumsum")


def cumprod(x, axis=None, dtype=None):
    return _scan(CumProd, x, axis, dtype, "cumprod")


def diff(a, n=1, axis=-1):
    (x,) = operands(a)
    for _ in range(n):
        lead = (slice(None),) * (_axes(x, axis, "diff")[0])
        x = A.sub(A.getitem(x, lead + (slice(1, None),)), A.getitem(x, lead + (slice(None, -1),)))
    return x


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """NumPy's quantile (methods linear, lower, higher, midpoint, nearest); differentiable through sort."""
    from .numpy_layout import sort
    x = floating(x)
    if method not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"quantile: unknown method {method!r}")
    qs = np.asarray(q.numpy() if hasattr(q, "numpy") else q, dtype=np.float64)
    if ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"quantile: q must be in [0, 1], got {q}")
    axes = _axes(x, axis, "quantile")
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = A.transpose(x, tuple(kept + list(axes)))
    flat = A.reshape(moved, moved.shape[:len(kept)] + (-1,))
    ordered = sort(flat, axis=-1)
    n = flat.shape[-1]
    results = []
    for value in qs.reshape(-1):
        position = value * (n - 1)
        low, high = int(np.floor(position)), int(np.ceil(position))
        fraction = {"linear": position - low, "lower": 0.0, "higher": 1.0, "midpoint": 0.5,
                    "nearest": float(np.round(position) == high)}[method]
        lower, upper = A.getitem(ordered, (..., low)), A.getitem(ordered, (..., high))
        results.append(A.add(lower, A.mul(A.sub(upper, lower), fraction)) if fraction else lower)
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape)) if keepdims else \
        tuple(d for i, d in enumerate(x.shape) if i not in axes)
    results = [A.reshape(r, out_shape) for r in results]
    if qs.ndim == 0:
        return results[0]
    from .numpy_layout import stack
    return stack(results, axis=0)


def median(x, axis=None, keepdims=False):
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


# --- no gradient ------------------------------------------------------------------------------

def _arg_reduce(name, x, axis, keepdims):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    fn = xp.argmax if name == "argmax" else xp.argmin
    if axis is None:
        result = xp.asarray(fn(x.data.reshape(-1)))
        result = result.reshape((1,) * x.ndim) if keepdims else result
    else:
        axis = _axes(x, axis, name)[0]
        result = fn(x.data, axis=axis)
        result = xp.expand_dims(result, axis) if keepdims else result
    return constant(result.astype("int32"))


def argmax(x, axis=None, keepdims=False):
    return _arg_reduce("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg_reduce("argmin", x, axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001 - mirrors keras.ops.all
    (x,) = operands(x)
    return constant(x.data.astype(bool).all(axis=_axes(x, axis, "all"), keepdims=keepdims))


def any(x, axis=None, keepdims=False):  # noqa: A001 - mirrors keras.ops.any
    (x,) = operands(x)
    return constant(x.data.astype(bool).any(axis=_axes(x, axis, "any"), keepdims=keepdims))


def count_nonzero(x, axis=None):
    (x,) = operands(x)
    return constant((x.data != 0).sum(axis=_axes(x, axis, "count_nonzero")).astype("int32"))


def trace(x, offset=0, axis1=0, axis2=1):
    from .numpy_layout import diagonal
    return A.sum(diagonal(x, offset, axis1, axis2), axis=-1)


def corrcoef(x):
    """Pearson correlation of the rows of x (variables in rows, observations in columns), as NumPy."""
    x = floating(x)
    x = x if x.ndim == 2 else A.reshape(x, (1, -1))
    centered = A.sub(x, A.mean(x, axis=1, keepdims=True))
    covariance = A.matmul(centered, A.transpose(centered))
    from .numpy_math import sqrt
    scale = sqrt(A.sum(A.mul(centered, centered), axis=1))
    return A.div(covariance, A.mul(A.reshape(scale, (-1, 1)), A.reshape(scale, (1, -1))))


def histogram(x, bins=10, range=None):  # noqa: A002 - NumPy's argument name
    """(counts, bin edges) of the flattened x (no gradient)."""
    (x,) = operands(x)
    xp = get_array_module(x.data)
    counts, edges = xp.histogram(x.data.reshape(-1), bins=bins, range=range)
    return constant(counts.astype("int32")), constant(edges.astype(x.dtype if x.dtype.kind == "f" else "float32"))
