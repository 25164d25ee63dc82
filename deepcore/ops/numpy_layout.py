"""keras.ops' layout ops: reshaping, joining, splitting, and every op that only moves, copies or
drops elements (flip, roll, tile, repeat, take, sort, diagonal, reflective pads, ...).

Those last ones share one mechanism: run the same NumPy op on the *positions* of x's elements
(``arange(x.size).reshape(x.shape)``) and gather x's flat values at the resulting positions. The
backward of a gather scatters the gradient back to those positions (``bincount`` adds repeats),
so each such op is one line and is differentiable for free.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module
from .core import constant, operands
from .shape import Concatenate, Pad, broadcast_to as _broadcast_to


class Gather(Function):
    """y = x.flat[positions] (any shape of positions); a position of -1 gives 0."""

    def __init__(self, positions):
        self.positions = positions

    def forward(self, x):
        self.shape, self.size = x.shape, x.size
        flat = x.reshape(-1)
        if bool((self.positions < 0).any()):
            flat = get_array_module(x).concatenate([flat, get_array_module(x).zeros(1, x.dtype)])
        return flat[self.positions]

    def backward(self, g):
        xp = get_array_module(g)
        where = xp.where(self.positions < 0, self.size, self.positions).reshape(-1)
        grad = xp.bincount(where, weights=g.reshape(-1), minlength=self.size + 1)[:self.size]
        return grad.astype(g.dtype, copy=False).reshape(self.shape)


def rearrange(x, fn):
    """Apply ``fn`` (an array -> array function that only moves elements) to x, differentiably."""
    (x,) = operands(x)
    xp = get_array_module(x.data)
    positions = fn(xp.arange(x.size).reshape(x.shape))
    return Gather.apply(x, positions=positions)


def _axis(x, axis, name):
    if not -x.ndim <= axis < builtins.max(x.ndim, 1):
        raise ValueError(f"{name}: axis {axis} is out of range for input of shape {x.shape}")
    return axis % builtins.max(x.ndim, 1)


# --- reshaping ---------------------------------------------------------------------------------

def reshape(x, newshape):
    (x,) = operands(x)
    newshape = (newshape,) if isinstance(newshape, int) else tuple(int(d) for d in newshape)
    known = int(np.prod([d for d in newshape if d != -1]))
    if newshape.count(-1) > 1 or (-1 not in newshape and known != x.size) or \
            (-1 in newshape and (known == 0 or x.size % known)):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} values) to {newshape}")
    return A.reshape(x, newshape)


def ravel(x):
    return reshape(x, (-1,))


def expand_dims(x, axis):
    (x,) = operands(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    rank = x.ndim + len(axes)
    axes = sorted(a % rank for a in axes)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return A.reshape(x, tuple(shape))


def squeeze(x, axis=None):
    (x,) = operands(x)
    if axis is None:
        return A.reshape(x, tuple(d for d in x.shape if d != 1))
    axes = {_axis(x, a, "squeeze") for a in ((axis,) if isinstance(axis, int) else axis)}
    bad = [a for a in axes if x.shape[a] != 1]
    if bad:
        raise ValueError(f"squeeze: axis {bad} of input of shape {x.shape} does not have size 1")
    return A.reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def transpose(x, axes=None):
    (x,) = operands(x)
    if axes is not None and sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} axes of {x.shape}")
    return A.transpose(x, None if axes is None else tuple(a % x.ndim for a in axes))


def moveaxis(x, source, destination):
    (x,) = operands(x)
    source = [_axis(x, a, "moveaxis") for a in ([source] if isinstance(source, int) else source)]
    destination = [_axis(x, a, "moveaxis") for a in ([destination] if isinstance(destination, int) else destination)]
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length")
    order = [a for a in range(x.ndim) if a not in source]
    for to, axis in sorted(zip(destination, source)):
        order.insert(to, axis)
    return A.transpose(x, tuple(order))


def swapaxes(x, axis1, axis2):
    (x,) = operands(x)
    order = list(range(x.ndim))
    a, b = _axis(x, axis1, "swapaxes"), _axis(x, axis2, "swapaxes")
    order[a], order[b] = order[b], order[a]
    return A.transpose(x, tuple(order))


def broadcast_to(x, shape):
    (x,) = operands(x)
    try:
        np.broadcast_shapes(x.shape, tuple(shape))
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}") from None
    return _broadcast_to(x, tuple(shape))


# --- joining and splitting ----------------------------------------------------------------------

def concatenate(xs, axis=0):
    """Keras' default axis is 0 (the layer Concatenate's is -1)."""
    xs = operands(*xs)
    if not xs:
        raise ValueError("concatenate: expected at least one tensor")
    if axis is None:
        xs, axis = [A.reshape(x, (-1,)) for x in xs], 0
    ndim = xs[0].ndim
    shapes = [x.shape for x in xs]
    if not -ndim <= axis < ndim or any(len(s) != ndim for s in shapes) or \
            len({s[:axis % ndim] + s[axis % ndim + 1:] for s in shapes}) != 1:
        raise ValueError(f"concatenate: shapes {shapes} cannot be joined along axis {axis}")
    common = np.result_type(*[x.dtype for x in xs])
    xs = [x if x.dtype == common else A.cast(x, common) for x in xs]
    return Concatenate.apply(*xs, axis=axis % ndim)


def stack(x, axis=0):
    xs = operands(*x)
    shapes = {t.shape for t in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {[t.shape for t in xs]}")
    return concatenate([expand_dims(t, axis) for t in xs], axis=axis)


def hstack(xs):
    xs = operands(*xs)
    return concatenate(xs, axis=0 if xs[0].ndim == 1 else 1)


def vstack(xs):
    xs = [t if t.ndim > 1 else A.reshape(t, (1, -1)) for t in operands(*xs)]
    return concatenate(xs, axis=0)


def append(x1, x2, axis=None):
    return concatenate([x1, x2], axis=axis)


def split(x, indices_or_sections, axis=0):
    (x,) = operands(x)
    axis = _axis(x, axis, "split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections < 1 or n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of size {n} cannot be split into {indices_or_sections} equal parts")
        cuts = list(range(0, n, n // indices_or_sections))[1:]
    else:
        cuts = [int(c) for c in indices_or_sections]
    bounds = [0] + cuts + [n]
    lead = (builtins.slice(None),) * axis
    return [A.getitem(x, lead + (builtins.slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]


def array_split(x, indices_or_sections, axis=0):
    (x,) = operands(x)
    n = x.shape[_axis(x, axis, "array_split")]
    sections = int(indices_or_sections)
    sizes = [n // sections + (1 if i < n % sections else 0) for i in range(sections)]
    return split(x, list(np.cumsum(sizes)[:-1]), axis)


# --- element movers (one Gather each) ---------------------------------------------------------

def flip(x, axis=None):
    return rearrange(x, lambda p: get_array_module(p).flip(p, axis=axis))


def roll(x, shift, axis=None):
    return rearrange(x, lambda p: get_array_module(p).roll(p, shift, axis=axis))


def rot90(array, k=1, axes=(0, 1)):
    return rearrange(array, lambda p: get_array_module(p).rot90(p, k, axes))


def tile(x, repeats):
    return rearrange(x, lambda p: get_array_module(p).tile(p, repeats))


def repeat(x, repeats, axis=None):
    return rearrange(x, lambda p: get_array_module(p).repeat(p, get_array_module(p).asarray(repeats)
                                                             if not isinstance(repeats, int) else repeats, axis=axis))


def take(x, indices, axis=None):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    indices = xp.asarray(_host_ints(indices, "take"))
    size = x.size if axis is None else x.shape[_axis(x, axis, "take")]
    if indices.size and (int(indices.max()) >= size or int(indices.min()) < -size):
        raise ValueError(f"take: indices must be in [-{size}, {size}), got values in "
                         f"[{int(indices.min())}, {int(indices.max())}]")
    return rearrange(x, lambda p: xp.take(p, indices, axis=axis))


def take_along_axis(x, indices, axis=None):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    indices = xp.asarray(_host_ints(indices, "take_along_axis"))
    if axis is not None and indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of rank {indices.ndim} for input of rank {x.ndim}")
    return rearrange(x if axis is not None else A.reshape(x, (-1,)),
                     lambda p: xp.take_along_axis(p, indices, axis=-1 if axis is None else axis))


def _host_ints(indices, name):
    from ..autograd.tensor import unwrap
    indices = unwrap(indices)
    if getattr(indices, "dtype", np.asarray(indices).dtype).kind not in "iu":
        raise ValueError(f"{name}: indices must be integers, got dtype {getattr(indices, 'dtype', None)}")
    return indices


def diagonal(x, offset=0, axis1=0, axis2=1):
    return rearrange(x, lambda p: get_array_module(p).diagonal(p, offset, axis1, axis2).copy())


def diag(x, k=0):
    """The k-th diagonal of a matrix, or a matrix with a vector on its k-th diagonal."""
    (x,) = operands(x)
    if x.ndim == 1:
        xp = get_array_module(x.data)
        positions = xp.diag(xp.arange(x.size) + 1, k) - 1  # 0 off the diagonal -> -1 (a zero)
        return Gather.apply(x, positions=positions)
    if x.ndim != 2:
        raise ValueError(f"diag: expected a vector or a matrix, got shape {x.shape}")
    return diagonal(x, k)


def diagflat(x, k=0):
    return diag(ravel(x), k)


def pad(x, pad_width, mode="constant", constant_values=None):
    """numpy.pad's modes 'constant', 'reflect', 'symmetric', 'edge', 'wrap' (the last four as gathers)."""
    (x,) = operands(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2) if np.ndim(pad_width) else
                             np.full((1, 2), int(pad_width)), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width}")
    widths = tuple((int(a), int(b)) for a, b in widths)
    if mode == "constant":
        return Pad.apply(x, widths=widths, value=0.0 if constant_values is None else constant_values)
    if mode not in ("reflect", "symmetric", "edge", "wrap"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'symmetric', 'edge' or 'wrap', got {mode!r}")
    return rearrange(x, lambda p: get_array_module(p).pad(p, widths, mode=mode))


def tril(x, k=0):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    return A.mul(x, xp.tril(xp.ones(x.shape[-2:], x.dtype), k))


def triu(x, k=0):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    return A.mul(x, xp.triu(xp.ones(x.shape[-2:], x.dtype), k))


def meshgrid(*x, indexing="xy"):
    xs = [ravel(t) for t in operands(*x)]
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    shape = [t.size for t in xs]
    if indexing == "xy" and len(xs) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, t in enumerate(xs):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(xs) > 1 else i
        view = [1] * len(xs)
        view[axis] = t.size
        grids.append(_broadcast_to(A.reshape(t, tuple(view)), tuple(shape)))
    return grids


# --- sorting ---------------------------------------------------------------------------------

def argsort(x, axis=-1):
    (x,) = operands(x)
    return constant(get_array_module(x.data).argsort(x.data, axis=axis, kind="stable").astype("int32"))


def sort(x, axis=-1):
    """Sorted values; differentiable (the gradient goes back to each value's original place)."""
    (x,) = operands(x)
    order = get_array_module(x.data).argsort(x.data, axis=axis, kind="stable")
    return rearrange(x, lambda p: get_array_module(p).take_along_axis(p, order, axis=axis))


def argpartition(x, kth, axis=-1):
    (x,) = operands(x)
    return constant(get_array_module(x.data).argpartition(x.data, kth, axis=axis).astype("int32"))


def top_k(x, k, sorted=True):  # noqa: A002 - Keras' argument name
    """(values, indices) of the k largest entries along the last axis, largest first; ties keep
    the lower index first, as TensorFlow."""
    (x,) = operands(x)
    if not isinstance(k, int) or not 1 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k must be an int in [1, {x.shape[-1]}], got {k!r}")
    xp = get_array_module(x.data)
    indices = xp.argsort(-x.data, axis=-1, kind="stable")[..., :k]
    values = rearrange(x, lambda p: xp.take_along_axis(p, indices, axis=-1))
    return values, constant(indices.astype("int32"))
