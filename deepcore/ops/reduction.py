"""Max/min: reductions over axes and elementwise between two tensors.

Gradients follow TensorFlow: a reduction shares the gradient equally among
tied maxima; ``maximum(a, b)`` sends it to ``a`` where ``a >= b``.
"""
from __future__ import annotations

from ..autograd.arithmetic import _pair, unbroadcast
from ..autograd.function import Function
from ..backend import get_array_module


class ReduceMax(Function):
    def __init__(self, axis=None, keepdims=False, sign=1):
        self.axis, self.keepdims, self.sign = axis, keepdims, sign

    def forward(self, x):
        y = (x * self.sign).max(axis=self.axis, keepdims=True) * self.sign
        self.winners = x == y
        return y if self.keepdims else y.squeeze(axis=self.axis)

    def backward(self, g):
        xp = get_array_module(g)
        if not self.keepdims:
            axes = range(self.winners.ndim) if self.axis is None else \
                ((self.axis,) if isinstance(self.axis, int) else self.axis)
            g = xp.expand_dims(g, tuple(a % self.winners.ndim for a in axes))
        count = self.winners.sum(axis=self.axis, keepdims=True).astype(g.dtype)
        return self.winners * (g / count)


class Maximum(Function):
    def __init__(self, sign=1):
        self.sign = sign

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        self.a_wins = a * self.sign >= b * self.sign
        return get_array_module(a).where(self.a_wins, a, b)

    def backward(self, g):
        return unbroadcast(g * self.a_wins, self.shapes[0]), unbroadcast(g * ~self.a_wins, self.shapes[1])


def max(x, axis=None, keepdims=False):  # noqa: A001 - mirrors keras.ops.max
    return ReduceMax.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001 - mirrors keras.ops.min
    return ReduceMax.apply(x, axis=axis, keepdims=keepdims, sign=-1)


def maximum(a, b):
    return Maximum.apply(*_pair(a, b))


def minimum(a, b):
    return Maximum.apply(*_pair(a, b), sign=-1)
