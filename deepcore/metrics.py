"""Stateful metrics (Keras' update_state / result / reset_state).

State stays on the device as arrays; ``result()`` is the one host sync.
"""
from __future__ import annotations

from .autograd.tensor import unwrap
from .backend.device import get_array_module


class Metric:
    def __init__(self, name=None):
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def result(self) -> float:
        return float(self.total) / float(self.count) if float(self.count) else 0.0

    def values(self, y_true, y_pred):
        """Per-sample values to average (subclasses)."""
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.values(unwrap(y_true), unwrap(y_pred))
        if sample_weight is not None:
            xp = get_array_module(values)
            weight = xp.asarray(unwrap(sample_weight), dtype=values.dtype).reshape(-1)
            self.total = self.total + (values * weight).sum()
            self.count = self.count + weight.sum()
        else:
            self.total = self.total + values.sum()
            self.count = self.count + values.size


class Mean(Metric):
    """The running mean of the values given (used for the loss)."""

    def update_state(self, value, sample_weight=None, count=1):
        self.total = self.total + unwrap(value) * count
        self.count = self.count + count


class SparseCategoricalAccuracy(Metric):
    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        xp = get_array_module(y_pred)
        return (y_pred.argmax(axis=-1) == xp.asarray(y_true).reshape(-1)).astype("float32")


class CategoricalAccuracy(Metric):
    def __init__(self, name="categorical_accuracy"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).astype("float32")


class BinaryAccuracy(Metric):
    def __init__(self, name="binary_accuracy", threshold=0.5):
        self.threshold = threshold
        super().__init__(name)

    def values(self, y_true, y_pred):
        return ((y_pred > self.threshold) == (y_true > 0.5)).astype("float32").reshape(len(y_pred), -1).mean(-1)


class MeanSquaredError(Metric):
    def __init__(self, name="mean_squared_error"):
        super().__init__(name)

    def values(self, y_true, y_pred):
        diff = y_pred - y_true.reshape(y_pred.shape)
        return (diff * diff).reshape(len(diff), -1).mean(-1)


_BY_NAME = {"sparse_categorical_accuracy": SparseCategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
            "binary_accuracy": BinaryAccuracy, "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError}


def get(identifier, loss=None):
    """A Metric; 'accuracy'/'acc' picks the accuracy that matches the loss, as Keras does."""
    if isinstance(identifier, Metric):
        return identifier
    if identifier in ("accuracy", "acc"):
        loss_name = getattr(loss, "name", "")
        kind = {"sparse_categorical_crossentropy": SparseCategoricalAccuracy,
                "binary_crossentropy": BinaryAccuracy}.get(loss_name, CategoricalAccuracy)
        metric = kind()
        metric.name = identifier
        return metric
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown metric {identifier!r}; expected 'accuracy' or one of {sorted(_BY_NAME)}")
        return _BY_NAME[identifier]()
    raise TypeError(f"metrics.get: expected a metric name or Metric, got {type(identifier).__name__}")
