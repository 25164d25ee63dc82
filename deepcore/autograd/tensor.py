"""Tensor: an array (NumPy or CuPy) that remembers the op that made it.

``backward()`` walks the recorded graph in reverse topological order and
accumulates gradients into ``.grad`` of every tensor that requires one and
was not produced by an op (leaves: weights and user inputs).
"""
from __future__ import annotations

import numpy as np

from ..backend.device import get_array_module, get_device, to_device
from ..backend.kernel_table import kernels


class Tensor:
    """An n-dimensional array with an optional gradient (``requires_grad``)."""

    __array_priority__ = 100  # numpy_array + tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if type(data) is np.ndarray and dtype is None:  # an op's result: nothing to convert (most calls)
            self.data = data
            self.grad = None
            self.requires_grad = requires_grad
            self._creator = None
            return
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, np.generic):  # a NumPy reduction's scalar keeps its dtype
            data = np.asarray(data)
        if not isinstance(data, np.ndarray) and get_array_module(data) is np:
            data = np.asarray(data)  # lists and scalars; Python floats become float32 below
            if data.dtype == np.float64 and dtype is None:
                dtype = np.float32
            data = to_device(data, get_device())
        if dtype is not None and data.dtype != dtype:
            data = data.astype(dtype)
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad
        self._creator = None

    # --- array-like surface -------------------------------------------------
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: int(self.data.size))

    def __len__(self):
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """A NumPy copy of the data (never a view of the live array)."""
        array = to_device(self.data, "cpu")
        return array.copy() if array is self.data else array

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def item(self):
        return self.data.item()

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.numpy()!r}{grad})"

    def detach(self) -> "Tensor":
        return Tensor(self.data)

    def astype(self, dtype) -> "Tensor":
        from .arithmetic import cast

        return cast(self, dtype)

    # --- autograd ------------------------------------------------------------
    def backward(self, grad=None, on_leaf_grad=None):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        A leaf's gradient is stored as soon as the last op using it has run its backward (the last
        layers' weights first), and then ``on_leaf_grad(leaf)`` is called if given: data-parallel
        training starts reducing those gradients while backward goes on.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad")
        xp = get_array_module(self.data)
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward(): grad must be given for a non-scalar output of shape {self.shape}")
            grad = xp.ones_like(self.data)
        grad = grad.data if isinstance(grad, Tensor) else grad
        if self._creator is None:  # the root is itself a leaf
            _store_grad(self, grad, on_leaf_grad)
            return
        grads = {id(self): grad}
        order, uses = _backward_order(self)
        for tensor in order:
            fn = tensor._creator
            g = grads.pop(id(tensor), None)
            if g is not None:
                input_grads = fn.backward(g)
                if not isinstance(input_grads, tuple):
                    input_grads = (input_grads,)
                for parent, needs, pg in zip(fn.inputs, fn.needs_input_grad, input_grads):
                    if not needs or pg is None:
                        continue
                    key = id(parent)
                    grads[key] = pg if key not in grads else kernels(pg).add(grads[key], pg)
            for parent in fn.inputs:  # a leaf's gradient is final once its last user has run
                key = id(parent)
                if key in uses:
                    uses[key] -= 1
                    if not uses[key]:
                        g = grads.pop(key, None)
                        if g is not None:
                            _store_grad(parent, g, on_leaf_grad)

    # --- operators (defined in arithmetic.py) ---------------------------------
    def __add__(self, other):
        from .arithmetic import add
        return add(self, other)

    def __radd__(self, other):
        from .arithmetic import add
        return add(other, self)

    def __sub__(self, other):
        from .arithmetic import sub
        return sub(self, other)

    def __rsub__(self, other):
        from .arithmetic import sub
        return sub(other, self)

    def __mul__(self, other):
        from .arithmetic import mul
        return mul(self, other)

    def __rmul__(self, other):
        from .arithmetic import mul
        return mul(other, self)

    def __truediv__(self, other):
        from .arithmetic import div
        return div(self, other)

    def __rtruediv__(self, other):
        from .arithmetic import div
        return div(other, self)

    def __neg__(self):
        from .arithmetic import neg
        return neg(self)

    def __pow__(self, exponent):
        from .arithmetic import power
        return power(self, exponent)

    def __matmul__(self, other):
        from .arithmetic import matmul
        return matmul(self, other)

    def __getitem__(self, index):
        from .arithmetic import getitem
        return getitem(self, index)

    def sum(self, axis=None, keepdims=False):
        from .arithmetic import sum as sum_
        return sum_(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        from .arithmetic import mean
        return mean(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        from .arithmetic import reshape
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape)

    @property
    def T(self):
        from .arithmetic import transpose
        return transpose(self)


def as_tensor(value, dtype=None) -> Tensor:
    """Wrap ``value`` (array, scalar or Tensor) as a Tensor without copying arrays."""
    if isinstance(value, Tensor):
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    return Tensor(value, dtype=dtype)


def unwrap(value):
    """The array inside a Tensor; anything else unchanged."""
    return value.data if isinstance(value, Tensor) else value


def _store_grad(leaf, g, on_leaf_grad):
    leaf.grad = g if leaf.grad is None else leaf.grad + g
    if on_leaf_grad is not None:
        on_leaf_grad(leaf)


def _backward_order(root: Tensor) -> tuple:
    """(the op-made tensors reachable from ``root``, outputs before their inputs; {id(leaf): uses}) where
    uses counts the (op, input) pairs reading each leaf that requires a gradient. One pass for both: the
    per-node bookkeeping of backward is Python time on every training step (ResNet-20: ~600 nodes)."""
    order, visited, uses = [], set(), {}
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for parent in tensor._creator.inputs:
            if parent._creator is None:
                if parent.requires_grad:
                    uses[id(parent)] = uses.get(id(parent), 0) + 1
            elif id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order, uses
