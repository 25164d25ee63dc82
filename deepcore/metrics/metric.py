"""Metric base class and the reductions every other metric builds on: Mean, Sum, MeanMetricWrapper.

State stays on the device as arrays (it starts as 0.0 and takes the device
and shape of the first update); ``result()`` is the one host sync.
"""
from __future__ import annotations

import re

import numpy as np

from ..autograd.tensor import unwrap
from ..backend.device import get_array_module, to_device


def divide_no_nan(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0 (arrays or numbers, on their device)."""
    if type(numerator) in _SCALARS and type(denominator) in _SCALARS:  # a Mean's running sums: no array ops
        return np.asarray(0.0 if denominator == 0 else np.float64(numerator) / np.float64(denominator))
    xp = get_array_module(numerator, denominator)
    numerator, denominator = xp.asarray(numerator), xp.asarray(denominator)
    zero = denominator == 0
    return xp.where(zero, 0.0, numerator / xp.where(zero, 1.0, denominator))


_SCALARS = (float, int, np.float64)  # types of the host-side running totals of Mean


def to_host(value):
    """A float for a single number, else a NumPy array: the metric's one device-to-host transfer."""
    value = to_device(value, "cpu")
    return float(value) if value.size == 1 and value.ndim <= 1 else value


def weighted_sums(values, sample_weight=None):
    """(sum of values * weights, sum of weights) in float64, on the values' device (Keras' weighted mean).

    Without weights every element counts 1. With weights, values are first averaged over their trailing
    axes down to the weights' rank, as Keras does (per-sample weights for per-element values).
    """
    xp = get_array_module(values)
    values = xp.asarray(values)
    if sample_weight is None:
        return values.sum(dtype=xp.float64), float(values.size)
    if values.ndim == 0 and type(sample_weight) in (int, float):  # a batch's mean loss and its sample count
        return values.astype(xp.float64) * sample_weight, float(sample_weight)
    weight = xp.asarray(unwrap(sample_weight), dtype=xp.float64)
    if weight.ndim > values.ndim and weight.size == values.size:  # (n, 1) weights for (n,) values
        weight = weight.reshape(values.shape)
    while values.ndim > weight.ndim:
        values = values.mean(axis=-1)
    weight = xp.broadcast_to(weight, values.shape)
    return (values * weight).sum(dtype=xp.float64), weight.sum()


def _snake_case(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class Metric:
    """Keras' stateful metric: ``update_state`` per batch, ``result()``, ``reset_state()`` per epoch.

    ``_direction`` ("up", "down" or None) tells monitoring callbacks in mode "auto" which way is better.
    """

    _direction = None

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = dtype or "float32"
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """Update with one batch and return the running result (Keras)."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """The (weighted) mean of every value given."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None, count=None):
        """``count`` (deepcore): the weight of a scalar value, e.g. the batch size for a batch-mean loss;
        the same as ``sample_weight=count``."""
        values = unwrap(values)
        if sample_weight is None and type(values) is np.ndarray and values.ndim == 0 and type(count) in _SCALARS \
                and type(self.total) in _SCALARS:  # a host batch loss: Python floats, no array ops
            self.total, self.count = self.total + float(values) * count, self.count + count
            return
        total, count = weighted_sums(values, count if sample_weight is None else sample_weight)
        self.total, self.count = self.total + total, self.count + count

    def result(self):
        if type(self.total) in _SCALARS:  # host totals: plain division (divide_no_nan is ~5 array ops)
            return float(self.total / self.count) if self.count else 0.0
        return to_host(divide_no_nan(self.total, self.count))


class Sum(Metric):
    """The (weighted) sum of every value given."""

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        self.total = self.total + weighted_sums(unwrap(values), sample_weight)[0]

    def result(self):
        return to_host(get_array_module(self.total).asarray(self.total))


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)``, a per-sample function on arrays (Keras)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn, self._fn_kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", None), dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = unwrap(y_true), unwrap(y_pred)
        super().update_state(self._fn(get_array_module(y_pred).asarray(y_true), y_pred, **self._fn_kwargs),
                             sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}
