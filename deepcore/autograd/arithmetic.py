"""Elementwise arithmetic and basic array ops on Tensors, with NumPy broadcasting.

These back the Tensor operators (``+ - * / ** @ []``) and reductions; the
neural-network ops live in ``deepcore.ops``.
"""
from __future__ import annotations

import math
import numbers

from ..backend.device import get_array_module
from ..backend.kernel_table import kernels
from .function import Function
from .tensor import Tensor, as_tensor


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _pair(a, b):
    """Tensors for a binary op; a Python number takes the dtype of the tensor beside it."""
    if isinstance(a, numbers.Number) and not isinstance(b, numbers.Number):
        b = as_tensor(b)
        return as_tensor(get_array_module(b.data).asarray(a, dtype=b.dtype)), b
    if isinstance(b, numbers.Number) and not isinstance(a, numbers.Number):
        a = as_tensor(a)
        return a, as_tensor(get_array_module(a.data).asarray(b, dtype=a.dtype))
    return as_tensor(a), as_tensor(b)


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return kernels(a).add(a, b)

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(g, self.shapes[1])


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        return unbroadcast(g, self.shapes[0]), unbroadcast(-g, self.shapes[1])


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        ga = unbroadcast(g * self.b, self.a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * self.a, self.b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        ga = unbroadcast(g / self.b, self.a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g * self.a / (self.b * self.b), self.b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return (-g,)


class Power(Function):
    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, a):
        self.a = a
        return a ** self.exponent

    def backward(self, g):
        return (g * self.exponent * self.a ** (self.exponent - 1),)


class Exp(Function):
    def forward(self, a):
        self.y = get_array_module(a).exp(a)
        return self.y

    def backward(self, g):
        return (g * self.y,)


class Log(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).log(a)

    def backward(self, g):
        return (g / self.a,)


class MatMul(Function):
    """``a @ b`` for 2-D operands (batched operands broadcast as in NumPy)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return kernels(a).matmul(a, b)

    def backward(self, g):
        xp, matmul = get_array_module(g), kernels(g).matmul
        ga = unbroadcast(matmul(g, xp.swapaxes(self.b, -1, -2)), self.a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(matmul(xp.swapaxes(self.a, -1, -2), g), self.b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Sum(Function):
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, a):
        self.shape = a.shape
        return a.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g):
        xp = get_array_module(g)
        if not self.keepdims and self.axis is not None:
            axes = (self.axis,) if isinstance(self.axis, int) else self.axis
            g = xp.expand_dims(g, tuple(a % len(self.shape) for a in axes))
        return (xp.broadcast_to(g, self.shape).copy(),)


class Mean(Sum):
    """``a.mean(axis)`` as one node (a loss's reduction runs every step): the gradient spread evenly."""

    def forward(self, a):
        axes = range(a.ndim) if self.axis is None else ((self.axis,) if isinstance(self.axis, int) else self.axis)
        self.shape, self.count = a.shape, math.prod(a.shape[axis] for axis in axes)
        if a.dtype.kind != "f":  # integers and booleans: NumPy's float64 mean
            return a.mean(axis=self.axis, keepdims=self.keepdims)
        return a.sum(axis=self.axis, keepdims=self.keepdims) / self.count  # np.mean's arithmetic, without its wrapper

    def backward(self, g):
        if self.axis is None:  # one value spread: no broadcast_to (a loss's reduction, every step)
            spread = get_array_module(g).empty(self.shape, g.dtype)
            spread[...] = g / self.count
            return (spread,)
        (spread,) = super().backward(g)
        spread /= self.count
        return (spread,)


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, a):
        self.input_shape = a.shape
        return a.reshape(self.shape)

    def backward(self, g):
        return (g.reshape(self.input_shape),)


class Transpose(Function):
    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, a):
        return a.transpose(self.axes)

    def backward(self, g):
        if self.axes is None:
            return (g.transpose(),)
        inverse = [0] * len(self.axes)
        for i, axis in enumerate(self.axes):
            inverse[axis] = i
        return (g.transpose(inverse),)


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, a):
        self.shape, self.dtype = a.shape, a.dtype
        return a[self.index]

    def backward(self, g):
        xp = get_array_module(g)
        grad = xp.zeros(self.shape, dtype=g.dtype)
        xp.add.at(grad, self.index, g) if xp.__name__ == "numpy" else grad.scatter_add(self.index, g)
        return (grad,)


class Cast(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, a):
        self.input_dtype = a.dtype
        return a.astype(self.dtype, copy=False)

    def backward(self, g):
        return (g.astype(self.input_dtype, copy=False),)


def add(a, b):
    return Add.apply(*_pair(a, b))


def sub(a, b):
    return Sub.apply(*_pair(a, b))


def mul(a, b):
    return Mul.apply(*_pair(a, b))


def div(a, b):
    return Div.apply(*_pair(a, b))


def neg(a):
    return Neg.apply(a)


def power(a, exponent):
    if not isinstance(exponent, numbers.Number):
        raise TypeError(f"power: exponent must be a Python number, got {type(exponent).__name__}")
    return Power.apply(a, exponent=exponent)


def exp(a):
    return Exp.apply(a)


def log(a):
    return Log.apply(a)


def matmul(a, b):
    return MatMul.apply(a, b)


def sum(a, axis=None, keepdims=False):  # noqa: A001 - mirrors numpy's name
    return Sum.apply(a, axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    return Mean.apply(a, axis=axis, keepdims=keepdims)


def reshape(a, shape):
    return Reshape.apply(a, shape=tuple(shape))


def transpose(a, axes=None):
    return Transpose.apply(a, axes=None if axes is None else tuple(axes))


def getitem(a, index):
    return GetItem.apply(a, index=index)


def cast(a, dtype):
    return Cast.apply(a, dtype=dtype)


__all__ = ["Tensor", "add", "sub", "mul", "div", "neg", "power", "exp", "log", "matmul", "sum",
           "mean", "reshape", "transpose", "getitem", "cast", "unbroadcast"]
