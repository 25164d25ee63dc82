"""``dc.random``: Keras 3's random ops, reproducible under ``dc.utils.set_random_seed``.

Values are drawn on the host from a NumPy generator and moved to the current
device, so a seed gives the same numbers on CPU and GPU.
"""
from __future__ import annotations

import numpy as np

from .autograd.tensor import Tensor, unwrap
from .backend import random as _random
from .backend.device import get_device, to_device


class SeedGenerator:
    """A stateful seed: each draw advances it, so repeated calls differ but a run is reproducible."""

    def __init__(self, seed=None):
        base = _random.generator().integers(2**63) if seed is None else seed
        self._generator = np.random.default_rng(base)

    def next(self):
        return self._generator


def _rng(seed):
    if seed is None:
        return _random.generator()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"random: seed must be None, an int or a SeedGenerator, got {type(seed).__name__}")


def _tensor(values, dtype):
    return Tensor(to_device(np.asarray(values, dtype=dtype), get_device()))


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    return _tensor(_rng(seed).normal(mean, stddev, tuple(shape)), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    """Normal values redrawn until within two standard deviations of the mean."""
    return _tensor(mean + stddev * _random.truncated_standard_normal(_rng(seed), tuple(shape), np.float64), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype="float32", seed=None):
    return _tensor(_rng(seed).uniform(minval, maxval, tuple(shape)), dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in [minval, maxval)."""
    return _tensor(_rng(seed).integers(minval, maxval, tuple(shape)), dtype)


def shuffle(x, axis=0, seed=None):
    """A copy of ``x`` permuted along ``axis`` (not differentiable)."""
    array = unwrap(x)
    order = _rng(seed).permutation(array.shape[axis])
    return Tensor(array.take(to_device(order, get_device()) if not isinstance(array, np.ndarray) else order,
                             axis=axis))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout, as ``keras.random.dropout`` (always active: it is the training-time op)."""
    from .ops.nn import Dropout

    if not 0 <= rate < 1:
        raise ValueError(f"random.dropout: rate must be in [0, 1), got {rate}")
    if seed is not None:
        state = _random.generator()
        _random.set_generator(_rng(seed))
        try:
            return Dropout.apply(inputs, rate=rate, noise_shape=noise_shape)
        finally:
            _random.set_generator(state)
    return Dropout.apply(inputs, rate=rate, noise_shape=noise_shape)
