"""Layers that merge a list of inputs: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot."""
from __future__ import annotations

import functools

from .. import ops
from ..autograd import arithmetic as A
from ..backend import get_array_module
from .base import Layer


class _Merge(Layer):
    """Elementwise merge of inputs of one shape."""

    combine = None
    min_inputs, max_inputs = 2, None
    supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        """A step is kept when every input keeps it (Keras' merge layers)."""
        if not isinstance(previous_mask, list):
            return previous_mask
        masks = [m for m in previous_mask if m is not None]
        return functools.reduce(lambda a, b: a & b, masks) if masks else None

    def build(self, input_shape):
        if not isinstance(input_shape, list) or not self.min_inputs <= len(input_shape) <= \
                (self.max_inputs or len(input_shape)):
            count = f"exactly {self.min_inputs}" if self.max_inputs else f"at least {self.min_inputs}"
            got = f"{len(input_shape)} inputs" if isinstance(input_shape, list) else f"one input {input_shape}"
            raise ValueError(f"{self.describe()}: expected a list of {count} inputs, got {got}")
        self.check_shapes(input_shape)

    def check_shapes(self, input_shape):
        broadcast_shape(self.describe(), input_shape)

    def call(self, inputs, training=None):
        return functools.reduce(type(self).combine, inputs)

    def compute_output_shape(self, input_shape):
        return broadcast_shape(self.describe(), input_shape)


def broadcast_shape(who, shapes):
    """The NumPy broadcast of the inputs' shapes (None = unknown), as Keras 3's merge layers allow."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    result = []
    for dims in zip(*padded):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f"{who}: inputs must have broadcast-compatible shapes, got {[tuple(s) for s in shapes]}")
        result.append(known.pop() if known else (None if None in dims else 1))
    return tuple(result)


class Add(_Merge):
    """``call(..., fused_relu=True)`` (not in Keras) returns max(sum, 0) with the last addition and the ReLU in
    one pass; functional models call it so when a plain ReLU is this layer's only consumer (``fuses_relu``)."""

    combine = staticmethod(ops.add)

    def call(self, inputs, training=None, fused_relu=False):
        if not fused_relu:
            return super().call(inputs)
        return ops.add_relu(functools.reduce(ops.add, inputs[:-1]), inputs[-1])


class Subtract(_Merge):
    combine = staticmethod(ops.sub)
    max_inputs = 2


class Multiply(_Merge):
    combine = staticmethod(ops.mul)


class Maximum(_Merge):
    combine = staticmethod(ops.maximum)


class Minimum(_Merge):
    combine = staticmethod(ops.minimum)


class Average(_Merge):
    def call(self, inputs, training=None):
        return ops.mul(functools.reduce(ops.add, inputs), 1.0 / len(inputs))


class Concatenate(_Merge):
    """Joins inputs along ``axis``; every other axis must agree."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"{self.describe()}: axis must be an int, got {axis!r}")
        self.axis = axis

    def check_shapes(self, input_shape):
        rank = len(input_shape[0])
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"{self.describe()}: axis {self.axis} is out of range or the batch axis for inputs "
                             f"of rank {rank}")
        axis = self.axis % rank
        others = [tuple(s[1:axis]) + tuple(s[axis + 1:]) if len(s) == rank else None for s in input_shape]
        if any(o != others[0] for o in others):
            raise ValueError(f"{self.describe()}: inputs must match on every axis but {self.axis}, got "
                             f"{[tuple(s) for s in input_shape]}")

    def call(self, inputs, training=None):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs, previous_mask=None):
        """Masks (batch, steps) join along a time axis; along the feature axis a step needs every input."""
        if not isinstance(previous_mask, list) or all(m is None for m in previous_mask):
            return None
        axis = self.axis % inputs[0].ndim
        if axis == inputs[0].ndim - 1:
            return super().compute_mask(inputs, previous_mask)
        xp = get_array_module(inputs[0].data)
        full = [xp.ones(x.shape[:axis + 1], bool) if m is None else xp.asarray(m)
                for x, m in zip(inputs, previous_mask)]
        return xp.concatenate(full, axis=axis)

    def compute_output_shape(self, input_shape):
        axis = self.axis % len(input_shape[0])
        sizes = [s[axis] for s in input_shape]
        out = list(input_shape[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Dot product of two inputs along ``axes`` (one per input), batch-wise; ``normalize`` gives cosine."""

    max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        axes = (axes, axes) if isinstance(axes, int) else tuple(axes)
        if len(axes) != 2 or not all(isinstance(a, int) and a != 0 for a in axes):
            raise ValueError(f"{self.describe()}: axes must be a non-batch axis or a pair of them, got {axes!r}")
        self.axes, self.normalize = axes, bool(normalize)

    def check_shapes(self, input_shape):
        a, b = (tuple(s) for s in input_shape)
        if len(a) not in (2, 3) or len(b) not in (2, 3) or \
                any(not -len(s) <= ax < len(s) for s, ax in zip((a, b), self.axes)):
            raise ValueError(f"{self.describe()}: expected two inputs of rank 2 or 3 with axes {self.axes} in "
                             f"range, got {a} and {b}")
        if a[self.axes[0]] != b[self.axes[1]]:
            raise ValueError(f"{self.describe()}: sizes along axes {self.axes} differ: {a} and {b}")

    def call(self, inputs, training=None):
        a, b = inputs
        axes = [ax % x.ndim for ax, x in zip(self.axes, (a, b))]
        if self.normalize:
            a, b = (A.div(x, A.power(A.add(A.sum(A.mul(x, x), axis=ax, keepdims=True), 1e-12), 0.5))
                    for x, ax in zip((a, b), axes))
        a = _move_axis(a, axes[0], a.ndim - 1)  # (N, [n,] d)
        b = _move_axis(b, axes[1], 1)  # (N, d, [m])
        a = A.reshape(a, (a.shape[0], -1, a.shape[-1]))
        b = A.reshape(b, (b.shape[0], b.shape[1], -1))
        y = A.matmul(a, b)  # (N, n or 1, m or 1)
        shape = (y.shape[0],) + tuple(d for d, keep in zip(y.shape[1:], (inputs[0].ndim == 3, inputs[1].ndim == 3))
                                      if keep)
        return A.reshape(y, shape if len(shape) > 1 else (y.shape[0], 1))

    def compute_output_shape(self, input_shape):
        a, b = input_shape
        rest = [d for i, d in enumerate(a[1:], 1) if i != self.axes[0] % len(a)] + \
               [d for i, d in enumerate(b[1:], 1) if i != self.axes[1] % len(b)]
        return (a[0],) + tuple(rest or [1])

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _move_axis(x, source, destination):
    order = [i for i in range(x.ndim) if i != source]
    order.insert(destination, source)
    return A.transpose(x, order) if order != list(range(x.ndim)) else x
