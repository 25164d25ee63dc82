"""Fused optimizer updates on the GPU: every parameter tensor in one launch (``kernels/optim.cu``).

The tensors stay where they are: the kernels get device arrays of their
addresses plus the prefix sums of their sizes, so a model's weights, gradients
and slots need no packing into a flat buffer (one flat buffer is the case of a
single tensor). The rules are Keras' (``deepcore/optimizers``), written out in
``reference``, which also runs for float64 or non-contiguous tensors.
"""
from __future__ import annotations

import functools

import numpy as np

from . import reference
from .cuda_modules import check_index_range, contiguous, device_pointer, fallback_reason, ints, launch, log


@functools.lru_cache(maxsize=256)
def _pointer_table(pointers: tuple):
    """A device array of the given device addresses (cached: weights and slots keep their addresses)."""
    import cupy
    return cupy.asarray(np.array(pointers, dtype=np.uint64))


@functools.lru_cache(maxsize=64)
def _offsets(sizes: tuple):
    import cupy
    return cupy.asarray(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32))


def _multi_tensor(family, reference_function):
    """Like ``cuda_kernel``, for in-place updates over lists of tensors: (weights, grads, slots...) then scalars."""
    def decorate(wrapper):
        @functools.wraps(wrapper)
        def run(*args):
            lists = [list(a) for a in args if isinstance(a, (list, tuple))]
            shapes = [[a.shape for a in group] for group in lists]
            if any(group != shapes[0] for group in shapes):
                raise ValueError(f"{wrapper.__name__}: weights, gradients and slots must be lists of the same "
                                 f"shapes in the same order, got {shapes}")
            updated = [a for i, group in enumerate(lists) if i != 1 for a in group]  # all but the gradients
            reason = fallback_reason(family, [a for group in lists for a in group])
            if reason is None and not all(a.flags.c_contiguous for a in updated):
                reason = "a tensor updated in place is not contiguous"
            if reason:
                log.debug("%s -> reference (%s)", wrapper.__name__, reason)
                return reference_function(*args)
            check_index_range(wrapper.__name__, sum(a.size for a in lists[0]))
            return wrapper(*lists, *args[len(lists):])
        run.reference = reference_function
        return run
    return decorate


def _tables(*lists):
    """A device pointer table per list, then the offsets (prefix sums of the sizes), for a multi-tensor launch."""
    tables = [_pointer_table(tuple(device_pointer(a) for a in group)) for group in lists]
    return (*tables, _offsets(tuple(a.size for a in lists[0])))


@_multi_tensor("optim", reference.sgd_momentum_update)
def sgd_momentum_update(weights, grads, velocities, learning_rate, momentum, nesterov=False):
    """Keras SGD over every tensor in one launch; ``velocities`` unread when ``momentum == 0``."""
    grads = list(contiguous(*grads))  # freed after the call: CuPy's pool reuses it only after the launch
    total = sum(a.size for a in weights)
    launch("optim", "sgd_momentum_update_multi", total,
           (*_tables(weights, grads, velocities), *ints(len(weights)), np.float32(learning_rate),
            np.float32(momentum), *ints(bool(nesterov))))


@_multi_tensor("optim", reference.adam_update)
def adam_update(weights, grads, firsts, seconds, step_size, beta_1, beta_2, epsilon):
    """Adam over every tensor in one launch; ``step_size`` from ``reference.adam_step_size``."""
    grads = list(contiguous(*grads))
    total = sum(a.size for a in weights)
    launch("optim", "adam_update_multi", total,
           (*_tables(weights, grads, firsts, seconds), *ints(len(weights)),
            *(np.float32(value) for value in (step_size, beta_1, beta_2, epsilon))))
