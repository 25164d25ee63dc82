"""Shape ops: flatten, reshape, concatenate, pad, broadcast, depth_to_space (the batch axis is axis 0)."""
from __future__ import annotations

import itertools

from ..autograd import arithmetic as A
from ..autograd.arithmetic import unbroadcast
from ..autograd.function import Function
from ..backend import get_array_module


def flatten(x):
    """(N, ...) -> (N, prod(...))."""
    return A.reshape(x, (x.shape[0], -1))


def reshape(x, shape):
    return A.reshape(x, shape)


class Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *arrays):
        self.sizes = [a.shape[self.axis] for a in arrays]
        return get_array_module(*arrays).concatenate(arrays, axis=self.axis)

    def backward(self, g):
        xp = get_array_module(g)
        cuts = list(itertools.accumulate(self.sizes))[:-1]
        return tuple(xp.split(g, cuts, axis=self.axis))


class Pad(Function):
    """Constant padding; ``widths`` is one (before, after) pair per axis, as numpy.pad."""

    def __init__(self, widths, value=0.0):
        self.widths, self.value = tuple(tuple(w) for w in widths), value

    def forward(self, x):
        return get_array_module(x).pad(x, self.widths, constant_values=self.value)

    def backward(self, g):
        return g[tuple(slice(before, g.shape[i] - after) for i, (before, after) in enumerate(self.widths))]


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.input_shape = x.shape
        return get_array_module(x).broadcast_to(x, self.shape).copy()

    def backward(self, g):
        return unbroadcast(g, self.input_shape)


def concatenate(tensors, axis=-1):
    """Join tensors along ``axis``; every other axis must agree."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: expected at least one tensor")
    ndim = tensors[0].ndim
    axis_ = axis % ndim if -ndim <= axis < ndim else None
    shapes = [tuple(t.shape) for t in tensors]
    if axis_ is None or any(len(s) != ndim or s[:axis_] + s[axis_ + 1:] != shapes[0][:axis_] + shapes[0][axis_ + 1:]
                            for s in shapes):
        raise ValueError(f"concatenate: shapes {shapes} cannot be joined along axis {axis}")
    return Concatenate.apply(*tensors, axis=axis_)


def pad(x, widths, value=0.0):
    return Pad.apply(x, widths=widths, value=value)


def transpose(x, axes):
    return A.transpose(x, axes)


def broadcast_to(x, shape):
    return BroadcastTo.apply(x, shape=shape)


def repeat_vector(x, n):
    """(N, features) -> (N, n, features)."""
    return broadcast_to(A.reshape(x, (x.shape[0], 1, x.shape[1])), (x.shape[0], n, x.shape[1]))


def depth_to_space(x, block_size):
    """(N, H, W, C*b*b) -> (N, H*b, W*b, C), TensorFlow's channel order (sub-pixel shuffle, Shi et al. 2016)."""
    n, h, w, c = x.shape
    b = block_size
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels {c} must be divisible by block_size**2 = {b * b}")
    y = A.reshape(x, (n, h, w, b, b, c // (b * b)))
    return A.reshape(A.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, c // (b * b)))


def space_to_depth(x, block_size):
    """The inverse of depth_to_space: (N, H*b, W*b, C) -> (N, H, W, C*b*b)."""
    n, h, w, c = x.shape
    b = block_size
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height and width {h, w} must be divisible by block_size {b}")
    y = A.reshape(x, (n, h // b, b, w // b, b, c))
    return A.reshape(A.transpose(y, (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, b * b * c))
