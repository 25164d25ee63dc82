"""Accuracy metrics: per-sample functions (Keras' ``keras.metrics.*_accuracy``) and their running means."""
from __future__ import annotations

import math

from ..autograd.tensor import unwrap
from ..backend.device import get_array_module
from .metric import MeanMetricWrapper


def _like(y_true, y_pred):
    """y_true in y_pred's shape (labels of shape (n,) for predictions (n, 1) and the like)."""
    if y_true.shape != y_pred.shape:
        if y_true.size != y_pred.size:
            raise ValueError(f"metric: y_true of shape {tuple(y_true.shape)} does not match y_pred of shape "
                             f"{tuple(y_pred.shape)}")
        y_true = y_true.reshape(y_pred.shape)
    return y_true


def _sparse_labels(y_true, y_pred):
    """Class indices of shape y_pred.shape[:-1], from labels shaped (n,) or (n, 1)."""
    expected = y_pred.shape[:-1]
    if y_true.size != math.prod(expected):
        raise ValueError(f"metric: sparse labels of shape {tuple(y_true.shape)} do not match predictions of shape "
                         f"{tuple(y_pred.shape)}; expected one class index per sample")
    return y_true.reshape(expected)


def _in_top_k(labels, y_pred, k):
    """1.0 where the label's score is >= the k-th largest score (ties count as in, as Keras' in_top_k)."""
    xp = get_array_module(y_pred)
    k = min(k, y_pred.shape[-1])
    kth_largest = xp.partition(y_pred, -k, axis=-1)[..., -k]
    label_score = xp.take_along_axis(y_pred, labels.astype(xp.int64)[..., None], axis=-1)[..., 0]
    return (label_score >= kth_largest).astype(xp.float32)


def accuracy(y_true, y_pred):
    """1.0 where y_true == y_pred, element by element."""
    return (_like(y_true, y_pred) == y_pred).astype(get_array_module(y_pred).float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per sample: the fraction of outputs where (y_pred > threshold) equals y_true."""
    hits = (_like(y_true, y_pred) == (y_pred > threshold)).astype(get_array_module(y_pred).float32)
    return hits.mean(axis=-1) if hits.ndim > 1 else hits


def categorical_accuracy(y_true, y_pred):
    """Per sample: 1.0 where argmax(y_pred) == argmax(y_true) (one-hot labels)."""
    return (y_pred.argmax(axis=-1) == _like(y_true, y_pred).argmax(axis=-1)).astype(get_array_module(y_pred).float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """Per sample: 1.0 where argmax(y_pred) == y_true (class indices)."""
    return (y_pred.argmax(axis=-1) == _sparse_labels(y_true, y_pred)).astype(get_array_module(y_pred).float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Per sample: 1.0 where the true class (one-hot) is among the k highest scores."""
    return _in_top_k(_like(y_true, y_pred).argmax(axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """Per sample: 1.0 where the class index is among the k highest scores (or, with from_sorted_ids,
    among the first k ids of y_pred, which then holds class ids sorted by score)."""
    if from_sorted_ids:
        labels = y_true.reshape(y_pred.shape[:-1])
        return (y_pred[..., :k] == labels[..., None]).any(axis=-1).astype(get_array_module(y_pred).float32)
    return _in_top_k(_sparse_labels(y_true, y_pred), y_pred, k)


class Accuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k, from_sorted_ids=from_sorted_ids)


class AccuracyByShape(MeanMetricWrapper):
    """What ``metrics=["accuracy"]`` means in compile, chosen from the first batch's shapes as Keras 3 does:
    binary accuracy for one output unit, sparse categorical for class-index labels, else categorical."""

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(None, name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._fn is None:
            true_shape, pred_shape = unwrap(y_true).shape, unwrap(y_pred).shape
            if pred_shape[-1] == 1:
                self._fn = binary_accuracy
            elif len(true_shape) < len(pred_shape) or true_shape[-1] == 1:
                self._fn = sparse_categorical_accuracy
            else:
                self._fn = categorical_accuracy
        super().update_state(y_true, y_pred, sample_weight)
