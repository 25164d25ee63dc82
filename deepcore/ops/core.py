"""keras.ops' core part: values to tensors and back, dtypes and shapes, slices and scatters,
``stop_gradient``, ``custom_gradient`` and control flow (run eagerly, as Keras' NumPy backend does).

Every ``dc.ops`` function takes NumPy arrays, nested lists, Python scalars and Tensors alike:
``operands`` turns them into Tensors on one device, a Python number taking the dtype of the
tensor beside it (NumPy's "weak scalar" rule, which Keras follows too).
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..autograd.tensor import Tensor, unwrap
from ..backend import get_array_module
from ..backend.device import device_of, get_device, to_device

FLOATX = "float32"


def convert_to_tensor(x, dtype=None, sparse=None):
    """A Tensor on the current device (a Tensor is returned as is, or cast to ``dtype``).

    Python floats and lists of them become float32 and Python ints int32, as Keras; NumPy arrays
    keep their dtype.
    """
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else A.cast(x, np.dtype(dtype))
    if get_array_module(x) is np:
        array = np.asarray(x)
        if dtype is None and not isinstance(x, (np.ndarray, np.generic)):
            dtype = {"f": FLOATX, "i": "int32"}.get(array.dtype.kind) if not isinstance(x, bool) else None
        array = to_device(array if dtype is None else array.astype(dtype, copy=False), get_device())
    else:
        array = x if dtype is None else x.astype(dtype, copy=False)
    return Tensor(array)


def convert_to_numpy(x):
    """A NumPy array (a host copy for GPU tensors)."""
    return to_device(unwrap(x), "cpu") if not isinstance(x, (numbers.Number, list, tuple)) else np.asarray(x)


def is_tensor(x):
    return isinstance(x, Tensor)


def operands(*values):
    """Tensors on one device for an op's inputs (see the module docstring)."""
    tensors = True
    for value in values:  # the common case, NumPy arrays (as Tensors) on the CPU, needs no device or dtype work
        if isinstance(value, Tensor):
            if type(value.data) is not np.ndarray:
                break
        elif type(value) is np.ndarray:
            tensors = False
        else:
            break
    else:
        if tensors:
            return list(values)
        if get_device().name == "cpu":  # convert_to_tensor would wrap the arrays as they are
            return [value if isinstance(value, Tensor) else Tensor(value) for value in values]
    arrays = [v for v in values if isinstance(v, Tensor) or hasattr(v, "dtype")]
    place = device_of(unwrap(arrays[0])) if arrays else get_device()
    reference = next((unwrap(a).dtype for a in arrays), None)
    result = []
    for value in values:
        if isinstance(value, Tensor):
            result.append(value if device_of(value.data) == place else Tensor(to_device(value.data, place)))
        elif isinstance(value, numbers.Number) and not isinstance(value, (bool, np.generic)) and reference is not None:
            kind = reference.kind
            dtype = reference if kind == "f" or (kind in "iu" and isinstance(value, numbers.Integral)) else \
                (FLOATX if isinstance(value, float) else "int32")
            result.append(Tensor(to_device(np.asarray(value, dtype=dtype), place)))
        else:
            tensor = convert_to_tensor(value)
            result.append(tensor if device_of(tensor.data) == place else Tensor(to_device(tensor.data, place)))
    return result


def floating(x):
    """x as a Tensor, cast to float32 when it holds integers or booleans (Keras' result dtype for math)."""
    (x,) = operands(x)
    return x if x.dtype.kind in "fc" else A.cast(x, np.dtype(FLOATX))


def constant(array):
    """A Tensor outside the graph (results of ops without a gradient: comparisons, argmax, ...)."""
    return Tensor(array)


def shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def ndim(x):
    return len(shape(x))


def size(x):
    return int(np.prod(shape(x), dtype=np.int64))


def dtype(x):
    return str(x.dtype if hasattr(x, "dtype") else convert_to_tensor(x).dtype)


def cast(x, dtype):
    (x,) = operands(x)
    return x if x.dtype == np.dtype(dtype) else A.cast(x, np.dtype(dtype))


def saturate_cast(x, dtype):
    """cast, clipping to the target integer type's range first."""
    (x,) = operands(x)
    target = np.dtype(dtype)
    if target.kind in "iu" and x.dtype.kind == "f":
        info = np.iinfo(target)
        from .numpy_math import clip
        x = clip(x, float(info.min), float(info.max))
    return cast(x, target)


def stop_gradient(x):
    """The same values, cut from the graph (no gradient flows back through it)."""
    (x,) = operands(x)
    return Tensor(x.data)


def copy(x):
    (x,) = operands(x)
    return A.mul(x, 1) if x.dtype.kind == "f" else Tensor(x.data.copy())


def get_item(x, key):
    (x,) = operands(x)
    return A.getitem(x, key)


def slice(inputs, start_indices, shape):  # noqa: A001 - mirrors keras.ops.slice
    """inputs[start : start + shape] on every axis; a shape entry of -1 runs to the end."""
    (x,) = operands(inputs)
    starts, sizes = [int(s) for s in unwrap(start_indices)], [int(s) for s in shape]
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(f"slice: expected {x.ndim} start indices and sizes for input of shape {x.shape}, "
                         f"got {starts} and {sizes}")
    index = tuple(builtins.slice(s, None if n == -1 else s + n) for s, n in zip(starts, sizes))
    return A.getitem(x, index)


class ScatterUpdate(Function):
    """y = x with y[index] replaced by updates; gradients: x's outside index, updates' inside."""

    def __init__(self, index):
        self.index = index

    def forward(self, x, updates):
        y = x.copy()
        y[self.index] = updates
        self.updates_shape = updates.shape
        return y

    def backward(self, g):
        gx = g.copy()
        gx[self.index] = 0
        return gx, g[self.index].reshape(self.updates_shape)


def _index_tuple(indices):
    """(K, rank) integer indices -> a NumPy advanced index (one array per axis)."""
    indices = unwrap(indices)
    if getattr(indices, "ndim", np.ndim(indices)) != 2:
        raise ValueError(f"scatter: indices must have shape (num_updates, rank), got {np.shape(indices)}")
    return tuple(indices[:, i] for i in range(indices.shape[1]))


def slice_update(inputs, start_indices, updates):
    """inputs with the block starting at ``start_indices`` replaced by ``updates``."""
    x, updates = operands(inputs, updates)
    starts = [int(s) for s in unwrap(start_indices)]
    if len(starts) != x.ndim or updates.ndim != x.ndim or \
            any(s < 0 or s + n > d for s, n, d in zip(starts, updates.shape, x.shape)):
        raise ValueError(f"slice_update: updates of shape {updates.shape} at {starts} do not fit in {x.shape}")
    index = tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))
    return ScatterUpdate.apply(x, A.cast(updates, x.dtype), index=index)


def scatter_update(inputs, indices, updates):
    """inputs with the entries at ``indices`` (num_updates, rank) set to ``updates``."""
    x, updates = operands(inputs, updates)
    xp = get_array_module(x.data)
    index = _index_tuple(xp.asarray(unwrap(indices)))
    return ScatterUpdate.apply(x, A.cast(updates, x.dtype), index=index)


class ScatterAdd(Function):
    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, updates):
        xp = get_array_module(updates)
        y = xp.zeros(self.shape, dtype=updates.dtype)
        if xp is np:
            np.add.at(y, self.index, updates)
        else:
            y.scatter_add(self.index, updates)
        return y

    def backward(self, g):
        return g[self.index]


def scatter(indices, values, shape):
    """A zeros tensor of ``shape`` with ``values`` added at ``indices`` (num_updates, rank)."""
    (values,) = operands(values)
    xp = get_array_module(values.data)
    index = _index_tuple(xp.asarray(unwrap(indices)))
    if len(index) > len(shape):
        raise ValueError(f"scatter: indices of rank {len(index)} do not fit shape {tuple(shape)}")
    return ScatterAdd.apply(values, index=index, shape=tuple(int(s) for s in shape))


class CustomGradient(Function):
    """Runs ``fn`` without recording and uses the gradient function it returns."""

    def __init__(self, fn):
        self.fn = fn

    def forward(self, *arrays):
        from ..autograd.function import no_grad
        with no_grad():
            y, self.grad_fn = self.fn(*[Tensor(a) for a in arrays])
        return unwrap(y)

    def backward(self, g):
        grads = self.grad_fn(Tensor(g))
        grads = grads if isinstance(grads, (list, tuple)) else (grads,)
        return tuple(None if gr is None else unwrap(gr) for gr in grads)


def custom_gradient(fn):
    """Decorator: ``fn(*args)`` returns ``(y, grad_fn)``; ``grad_fn(upstream)`` returns one gradient per arg."""
    def wrapped(*args):
        return CustomGradient.apply(*operands(*args), fn=fn)
    return wrapped


# --- control flow: plain Python loops over eager tensors ---------------------------------

def cond(pred, true_fn, false_fn):
    return true_fn() if bool(unwrap(pred)) else false_fn()


def switch(index, branches, *operands_):
    index = min(max(int(unwrap(index)), 0), len(branches) - 1)
    return branches[index](*operands_)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    single = not isinstance(loop_vars, (list, tuple))
    state = (loop_vars,) if single else tuple(loop_vars)
    steps = 0
    while bool(unwrap(cond(*state))) and (maximum_iterations is None or steps < maximum_iterations):
        state = body(*state)
        state = (state,) if single or not isinstance(state, (list, tuple)) else tuple(state)
        steps += 1
    return state[0] if single else state


def fori_loop(lower, upper, body_fun, init_val):
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def _stack(values):
    from .numpy_layout import stack
    return stack(values, axis=0)


def map(f, xs):  # noqa: A001 - mirrors keras.ops.map
    (xs,) = operands(xs)
    return _stack([f(A.getitem(xs, i)) for i in range(xs.shape[0])])


def vectorized_map(function, elements):
    return map(function, elements)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns (carry, stacked ys)."""
    if xs is None and length is None:
        raise ValueError("scan: give xs or length")
    xs_t = None if xs is None else operands(xs)[0]
    n = xs_t.shape[0] if xs_t is not None else int(length)
    carry, ys = init, []
    for i in (reversed(range(n)) if reverse else range(n)):
        carry, y = f(carry, None if xs_t is None else A.getitem(xs_t, i))
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, (_stack(ys) if ys and ys[0] is not None else None)


def associative_scan(f, elems, reverse=False, axis=0):
    """Prefix combination along ``axis`` (sequentially; the result equals the parallel scan's)."""
    from .numpy_layout import moveaxis, stack
    (x,) = operands(elems)
    x = moveaxis(x, axis, 0)
    order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    out, acc = {}, None
    for i in order:
        item = A.getitem(x, i)
        acc = item if acc is None else (f(acc, item) if not reverse else f(item, acc))
        out[i] = acc
    return moveaxis(stack([out[i] for i in range(x.shape[0])], axis=0), 0, axis)


def vectorize(pyfunc, excluded=None, signature=None):
    """``pyfunc`` applied to every element of its (broadcast) tensor arguments, results stacked back into
    that shape; ``pyfunc`` may use any dc.ops (the result is differentiable). Scalar cores only."""
    if signature is not None:
        raise ValueError("vectorize: signature= is not supported (scalar cores only)")
    excluded = set(excluded or ())

    def vectorized(*args):
        index = [i for i in range(len(args)) if i not in excluded]
        tensors = operands(*[args[i] for i in index])
        shape = np.broadcast_shapes(*[t.shape for t in tensors])
        from .numpy_layout import broadcast_to, stack
        flat = [A.reshape(broadcast_to(t, shape), (-1,)) for t in tensors]
        results = []
        for k in range(int(np.prod(shape, dtype=np.int64))):
            call = list(args)
            for i, t in zip(index, flat):
                call[i] = A.getitem(t, k)
            results.append(operands(pyfunc(*call))[0])
        return A.reshape(stack(results, axis=0), shape)
    return vectorized


def unstack(x, num=None, axis=0):
    (x,) = operands(x)
    axis = axis % x.ndim
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but axis {axis} of {x.shape} has size {x.shape[axis]}")
    return [A.getitem(x, (builtins.slice(None),) * axis + (i,)) for i in range(x.shape[axis])]
