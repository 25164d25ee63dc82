"""Regression metrics: mean squared / absolute error per sample and their running means."""
from __future__ import annotations

import math

from .accuracy import _like
from .metric import MeanMetricWrapper


def mean_squared_error(y_true, y_pred):
    """Per sample: mean over the last axis of (y_pred - y_true)^2."""
    diff = y_pred - _like(y_true, y_pred).astype(y_pred.dtype)
    return (diff * diff).mean(axis=-1) if diff.ndim > 1 else diff * diff


def mean_absolute_error(y_true, y_pred):
    """Per sample: mean over the last axis of |y_pred - y_true|."""
    diff = abs(y_pred - _like(y_true, y_pred).astype(y_pred.dtype))
    return diff.mean(axis=-1) if diff.ndim > 1 else diff


class MeanSquaredError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)


class RootMeanSquaredError(MeanMetricWrapper):
    """sqrt of the mean squared error over everything seen (not the mean of per-batch roots)."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)

    def result(self):
        return math.sqrt(super().result())
