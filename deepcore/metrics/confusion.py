"""Metrics from thresholded confusion counts: Precision, Recall, AUC, F1Score / FBetaScore (Keras 3)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import unwrap
from ..backend.device import get_array_module
from .accuracy import _like
from .metric import Metric, divide_no_nan, to_host

EPSILON = 1e-7  # Keras' backend.epsilon()


def _weights(sample_weight, y_pred):
    """Per-element weights in y_pred's shape (a weight per sample broadcast over its outputs)."""
    xp = get_array_module(y_pred)
    if sample_weight is None:
        return xp.ones(y_pred.shape, dtype=xp.float64)
    weight = xp.asarray(unwrap(sample_weight), dtype=xp.float64)
    if weight.ndim and weight.ndim < y_pred.ndim:
        weight = weight.reshape(weight.shape + (1,) * (y_pred.ndim - weight.ndim))
    return xp.broadcast_to(weight, y_pred.shape)


def thresholded_counts(y_true, y_pred, thresholds, weight, per_label=False):
    """Weighted true/false positives/negatives of ``y_pred > t`` for each threshold t.

    Returns (tp, fp, tn, fn), each of shape (T,), or (T, labels) with ``per_label`` (labels = last axis).
    One pass on the device, whatever T: each prediction's count of thresholds below it (searchsorted)
    is histogrammed, and a reversed cumulative sum gives the counts above every threshold.
    """
    xp = get_array_module(y_pred)
    thresholds = np.asarray(thresholds, dtype=np.float32)
    order = np.argsort(thresholds, kind="stable")
    size = len(thresholds) + 1
    labels = y_pred.shape[-1] if per_label else 1
    passed = xp.searchsorted(xp.asarray(thresholds[order]), y_pred.astype(xp.float32).reshape(-1), side="left")
    if per_label:
        passed = passed + size * (xp.arange(passed.size) % labels)
    positive = (y_true.reshape(-1) != 0)
    weight = weight.reshape(-1)

    def above(w):
        histogram = xp.bincount(passed, weights=w, minlength=size * labels).reshape(labels, size)
        totals = xp.cumsum(histogram[:, ::-1], axis=1)[:, ::-1]  # totals[:, j]: weight with > j-1 thresholds below
        return totals[:, 1:].T, totals[:, 0]

    tp, positives = above(xp.where(positive, weight, 0.0))
    fp, negatives = above(xp.where(positive, 0.0, weight))
    inverse = xp.asarray(np.argsort(order))
    tp, fp = tp[inverse], fp[inverse]
    counts = (tp, fp, negatives - fp, positives - tp)
    return counts if per_label else tuple(c[:, 0] for c in counts)


class _ThresholdedMetric(Metric):
    """Precision and Recall: counts at ``thresholds`` (default 0.5), optionally only the ``top_k``
    scores of each sample count as predicted positive, optionally only class ``class_id``."""

    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        default = 0.5 if top_k is None else -1e10  # Keras: with top_k, anything in the top k is positive
        listed = [default] if thresholds is None else list(np.atleast_1d(thresholds))
        if thresholds is not None and not all(0 <= t <= 1 for t in listed):
            raise ValueError(f"{type(self).__name__}: thresholds must be in [0, 1], got {thresholds!r}")
        self.thresholds = [float(t) for t in listed]
        super().__init__(name, dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = unwrap(y_pred)
        xp = get_array_module(y_pred)
        y_true = _like(xp.asarray(unwrap(y_true)), y_pred)
        weight = _weights(sample_weight, y_pred)
        if self.top_k is not None:  # keep the k highest scores of each sample (lowest index first on ties)
            rows = y_pred.reshape(-1, y_pred.shape[-1])
            kept = xp.argsort(-rows, axis=-1, kind="stable")[:, :self.top_k]
            mask = xp.zeros(rows.shape, dtype=bool)
            mask[xp.arange(len(rows))[:, None], kept] = True
            y_pred = xp.where(mask.reshape(y_pred.shape), y_pred, -np.inf)
        if self.class_id is not None:
            y_true, y_pred, weight = y_true[..., self.class_id], y_pred[..., self.class_id], weight[..., self.class_id]
        tp, fp, _, fn = thresholded_counts(y_true, y_pred, self.thresholds, weight)
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.false_negatives = self.false_negatives + fn

    def _ratio(self, numerator, denominator):
        value = divide_no_nan(numerator, denominator)
        value = get_array_module(value).broadcast_to(value, (len(self.thresholds),))
        return to_host(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ThresholdedMetric):
    """tp / (tp + fp) over every output (a float, or an array with several thresholds)."""

    def result(self):
        return self._ratio(self.true_positives, self.true_positives + self.false_positives)


class Recall(_ThresholdedMetric):
    """tp / (tp + fn) over every output (a float, or an array with several thresholds)."""

    def result(self):
        return self._ratio(self.true_positives, self.true_positives + self.false_negatives)


class AUC(Metric):
    """Area under the ROC or precision-recall curve from counts at ``num_thresholds`` thresholds, as Keras.

    Thresholds: -eps, (i + 1) / (num_thresholds - 1) for i < num_thresholds - 2, 1 + eps (or the given
    ``thresholds`` between -eps and 1 + eps); predictions should be probabilities (``from_logits`` applies a
    sigmoid). ``summation_method="interpolation"`` is the trapezoid rule for ROC and Davis & Goadrich's
    (2006) interpolation for PR; "minoring"/"majoring" use left/right Riemann sums of the lower/upper value.
    ``multi_label`` computes one curve per label (last axis) and averages the AUCs (weighted by
    ``label_weights``); otherwise every output is one sample of a single curve.
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if str(summation_method).lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', "
                             f"got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            if not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an int > 1, got {num_thresholds!r}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds, self.curve, self.summation_method = num_thresholds, str(curve).upper(), \
            str(summation_method).lower()
        self._init_from_thresholds = thresholds is not None
        self.thresholds = [-EPSILON] + inner + [1.0 + EPSILON]
        self.multi_label, self.num_labels, self.from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        super().__init__(name, dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = unwrap(y_pred)
        xp = get_array_module(y_pred)
        if self.from_logits:
            y_pred = 1 / (1 + xp.exp(-y_pred))
        y_true = _like(xp.asarray(unwrap(y_true)), y_pred)
        weight = _weights(sample_weight, y_pred)
        if self.label_weights is not None and not self.multi_label:
            weight = weight * xp.asarray(self.label_weights)
        tp, fp, tn, fn = thresholded_counts(y_true, y_pred, self.thresholds, weight, self.multi_label)
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.true_negatives = self.true_negatives + tn
        self.false_negatives = self.false_negatives + fn

    def _interpolated_pr_auc(self, tp, fp, fn):
        """Davis & Goadrich 2006, Sec. 4: precision interpolated linearly in TP between thresholds."""
        xp = get_array_module(tp)
        p = tp + fp
        dtp, dp = tp[:-1] - tp[1:], p[:-1] - p[1:]
        slope = divide_no_nan(dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = xp.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], xp.maximum(p[1:], 0)), 1.0)
        return divide_no_nan(slope * (dtp + intercept * xp.log(ratio)), xp.maximum(tp[1:] + fn[1:], 0))

    def result(self):
        xp = get_array_module(self.true_positives)
        tp, fp, tn, fn = (xp.asarray(c) for c in (self.true_positives, self.false_positives,
                                                   self.true_negatives, self.false_negatives))
        if tp.ndim == 0:  # nothing seen yet
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = self._interpolated_pr_auc(tp, fp, fn)
        else:
            recall = divide_no_nan(tp, tp + fn)
            x, y = (divide_no_nan(fp, fp + tn), recall) if self.curve == "ROC" else (recall, divide_no_nan(tp, tp + fp))
            heights = {"interpolation": lambda: (y[:-1] + y[1:]) / 2, "minoring": lambda: xp.minimum(y[:-1], y[1:]),
                       "majoring": lambda: xp.maximum(y[:-1], y[1:])}[self.summation_method]()
            areas = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return to_host(areas.sum())
        per_label = areas.sum(axis=0)
        if self.label_weights is None:
            return to_host(per_label.mean())
        weights = xp.asarray(self.label_weights)
        return to_host(divide_no_nan((per_label * weights).sum(), weights.sum()))

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": self.label_weights,
                  "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


class FBetaScore(Metric):
    """(1 + beta^2) P R / (beta^2 P + R) per class over (samples, classes) inputs, as Keras 3.

    A prediction is positive where y_pred > threshold, or, with threshold None, where it is the row's
    maximum (and not 0). ``average``: None (one score per class), "micro" (from global counts), "macro"
    (mean of the class scores) or "weighted" (mean weighted by each class's true count).
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: average must be None, 'micro', 'macro' or 'weighted', "
                             f"got {average!r}")
        if not beta > 0:
            raise ValueError(f"{type(self).__name__}: beta must be > 0, got {beta!r}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"{type(self).__name__}: threshold must be in (0, 1], got {threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name, dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = unwrap(y_pred)
        xp = get_array_module(y_pred)
        if y_pred.ndim != 2:
            raise ValueError(f"{type(self).__name__}: expected inputs of shape (batch, classes), got y_pred of "
                             f"shape {tuple(y_pred.shape)}")
        y_true = _like(xp.asarray(unwrap(y_true)), y_pred).astype(xp.float64)
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(xp.float64)
        weight = _weights(sample_weight, y_pred)
        axis = None if self.average == "micro" else 0
        self.true_positives = self.true_positives + (predicted * y_true * weight).sum(axis=axis)
        self.false_positives = self.false_positives + (predicted * (1 - y_true) * weight).sum(axis=axis)
        self.false_negatives = self.false_negatives + ((1 - predicted) * y_true * weight).sum(axis=axis)
        self.intermediate_weights = self.intermediate_weights + (y_true * weight).sum(axis=axis)

    def result(self):
        xp = get_array_module(self.true_positives)
        tp = xp.asarray(self.true_positives)
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        beta2 = self.beta ** 2
        score = (1 + beta2) * precision * recall / (beta2 * precision + recall + EPSILON)
        if self.average == "weighted":
            score = (score * self.intermediate_weights / (xp.sum(self.intermediate_weights) + EPSILON)).sum()
        elif self.average is not None:
            score = score.mean()
        return to_host(score)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
