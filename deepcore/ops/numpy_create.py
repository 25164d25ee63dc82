"""keras.ops' constructors and integer-valued ops: zeros, ones, full, eye, arange, linspace, tri,
nonzero, searchsorted, digitize, bincount, unravel_index, one_hot, multi_hot.

Results are on the current device and outside the graph (they have no inputs to differentiate).
Default dtypes follow Keras: float32 for floats, int32 for integers.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, unwrap
from ..backend import get_array_module
from ..backend.device import get_device
from .core import FLOATX, constant, convert_to_tensor, operands


def _xp():
    return get_device().xp


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def zeros(shape, dtype=None):
    return Tensor(_xp().zeros(_shape(shape), dtype or FLOATX))


def ones(shape, dtype=None):
    return Tensor(_xp().ones(_shape(shape), dtype or FLOATX))


def empty(shape, dtype=None):
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    fill = unwrap(fill_value)
    dtype = dtype or (FLOATX if isinstance(fill, float) else "int32" if isinstance(fill, int) and
                      not isinstance(fill, bool) else getattr(fill, "dtype", None))
    return Tensor(_xp().full(_shape(shape), fill, dtype=dtype))


def _like(x, value, dtype):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    return constant(xp.full(x.shape, value, dtype=dtype or x.dtype))


def zeros_like(x, dtype=None):
    return _like(x, 0, dtype)


def ones_like(x, dtype=None):
    return _like(x, 1, dtype)


def full_like(x, fill_value, dtype=None):
    return _like(x, unwrap(fill_value), dtype)


def eye(N, M=None, k=0, dtype=None):  # noqa: N803 - Keras' argument names
    return Tensor(_xp().eye(int(N), None if M is None else int(M), int(k), dtype=dtype or FLOATX))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803
    return Tensor(_xp().tri(int(N), None if M is None else int(M), int(k), dtype=dtype or FLOATX))


def arange(start, stop=None, step=1, dtype=None):
    start, stop = (0, start) if stop is None else (start, stop)
    values = [unwrap(v) for v in (start, stop, step)]
    if dtype is None:
        dtype = FLOATX if any(isinstance(v, float) or getattr(v, "dtype", np.dtype(int)).kind == "f"
                              for v in values) else "int32"
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return Tensor(_xp().arange(*[float(v) if np.dtype(dtype).kind == "f" else int(v) for v in values], dtype=dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    values, step = np.linspace(np.asarray(unwrap(start)), np.asarray(unwrap(stop)), int(num), endpoint=endpoint,
                               retstep=True, axis=axis)
    tensor = convert_to_tensor(values.astype(dtype or FLOATX))
    return (tensor, step) if retstep else tensor


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    values = np.logspace(np.asarray(unwrap(start)), np.asarray(unwrap(stop)), int(num), endpoint=endpoint,
                         base=base, axis=axis)
    return convert_to_tensor(values.astype(dtype or FLOATX))


def nonzero(x):
    (x,) = operands(x)
    return tuple(constant(i.astype("int32")) for i in get_array_module(x.data).nonzero(x.data))


def searchsorted(sorted_sequence, values, side="left"):
    a, v = operands(sorted_sequence, values)
    if a.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got shape {a.shape}")
    return constant(get_array_module(a.data).searchsorted(a.data, v.data, side=side).astype("int32"))


def digitize(x, bins):
    x, bins = operands(x, bins)
    return constant(get_array_module(x.data).digitize(x.data, bins.data).astype("int32"))


def bincount(x, weights=None, minlength=0, sparse=False):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    if x.dtype.kind not in "iu" or (x.size and int(x.data.min()) < 0):
        raise ValueError(f"bincount: expected non-negative integers, got dtype {x.dtype}")
    w = None if weights is None else operands(x, weights)[1].data
    if x.ndim == 1:
        return constant(xp.bincount(x.data, weights=w, minlength=minlength))
    length = max(minlength, int(x.data.max()) + 1 if x.size else 0)
    rows = [xp.bincount(r, weights=None if w is None else w[i], minlength=length) for i, r in enumerate(x.data)]
    return constant(xp.stack(rows))


def unravel_index(indices, shape):
    (indices,) = operands(indices)
    return tuple(constant(i.astype("int32")) for i in get_array_module(indices.data).unravel_index(indices.data,
                                                                                                 tuple(shape)))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels -> one-hot vectors on ``axis``; labels outside [0, num_classes) give all zeros (as Keras)."""
    (x,) = operands(x)
    xp = get_array_module(x.data)
    if x.dtype.kind not in "iu":
        raise ValueError(f"one_hot: expected integer labels, got dtype {x.dtype}")
    classes = xp.arange(int(num_classes))
    hot = (x.data[..., None] == classes).astype(dtype or FLOATX)
    return constant(xp.moveaxis(hot, -1, axis) if axis != -1 else hot)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """(batch, labels) -> (batch, num_classes) with a 1 for every label present."""
    num_classes = kwargs.pop("num_tokens", num_classes)
    hot = one_hot(inputs, num_classes, axis=-1, dtype=dtype).data
    reduced = hot.max(axis=-2) if hot.ndim > 1 else hot
    return constant(get_array_module(reduced).moveaxis(reduced, -1, axis) if axis != -1 else reduced)


def real(x):
    (x,) = operands(x)
    return x if x.dtype.kind != "c" else constant(x.data.real)


def imag(x):
    (x,) = operands(x)
    return constant(get_array_module(x.data).imag(x.data) if x.dtype.kind == "c" else
                    get_array_module(x.data).zeros_like(x.data))


def conjugate(x):
    (x,) = operands(x)
    return x if x.dtype.kind != "c" else constant(x.data.conj())


conj = conjugate
