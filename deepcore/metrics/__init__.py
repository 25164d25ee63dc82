"""Stateful metrics with Keras 3's names (``update_state`` / ``result`` / ``reset_state``).

State stays on the device as arrays; ``result()`` is the one host sync per call.
``confusion_matrix`` and ``classification_report`` give per-class results on the host.
"""
from __future__ import annotations

from .accuracy import (Accuracy, AccuracyByShape, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy, binary_accuracy,
                       categorical_accuracy, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                       top_k_categorical_accuracy)
from .confusion import AUC, F1Score, FBetaScore, Precision, Recall
from .metric import Mean, MeanMetricWrapper, Metric, Sum
from .regression import (MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError, mean_absolute_error,
                         mean_squared_error)
from .report import classification_report, confusion_matrix

_CLASSES = (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
            SparseTopKCategoricalAccuracy, Precision, Recall, AUC, F1Score, FBetaScore, MeanSquaredError,
            MeanAbsoluteError, RootMeanSquaredError, Mean, Sum)
_BY_CLASS_NAME = {cls.__name__: cls for cls in _CLASSES}
# Names as Keras resolves them: class names, snake-case names and the short aliases.
_BY_NAME = {**_BY_CLASS_NAME, **{cls().name: cls for cls in _CLASSES}, "mse": MeanSquaredError,
            "mae": MeanAbsoluteError}


def serialize(metric) -> dict:
    return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
            "registered_name": None}


def deserialize(config, custom_objects=None) -> Metric:
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = (custom_objects or {}).get(name) or _BY_CLASS_NAME.get(name)
    if cls is None:
        raise ValueError(f"metrics.deserialize: unknown metric class {name!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier, loss=None) -> Metric:
    """A fresh Metric from a name ('accuracy', 'mae', 'AUC', 'f1_score' ...), a config dict, a per-sample
    function, or a Metric (returned as is). 'accuracy'/'acc' picks binary, sparse categorical or
    categorical accuracy from the first batch's shapes, as Keras 3; ``loss`` is accepted and unused."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if identifier in ("accuracy", "acc"):
        return AccuracyByShape(name=identifier)
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown metric {identifier!r}; expected 'accuracy' or one of "
                             f"{sorted(n for n in _BY_NAME if n.islower())}")
        return _BY_NAME[identifier]()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"metrics.get: expected a metric name, config dict, function or Metric, "
                    f"got {type(identifier).__name__}")
