"""Metrics against NumPy references written out here (no scikit-learn)."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import metrics

rng = np.random.default_rng(3)
N, C = 64, 5
LABELS = rng.integers(0, C, N)
ONE_HOT = np.eye(C, dtype=np.float32)[LABELS]
SCORES = rng.random((N, C)).astype(np.float32)
PROBS = (SCORES / SCORES.sum(1, keepdims=True)).astype(np.float32)
BINARY_TRUE = rng.integers(0, 2, (N, 1)).astype(np.float32)
BINARY_PRED = rng.random((N, 1)).astype(np.float32)
WEIGHTS = rng.random(N).astype(np.float32)


def batched(metric, y_true, y_pred, sample_weight=None, batch=10):
    """The metric fed in batches (its state must accumulate exactly)."""
    metric.reset_state()
    for start in range(0, len(y_pred), batch):
        part = slice(start, start + batch)
        metric.update_state(y_true[part], y_pred[part], None if sample_weight is None else sample_weight[part])
    return metric.result()


def weighted_mean(values, weights=None):
    weights = np.ones(len(values)) if weights is None else weights.astype(np.float64)
    return float((values * weights).sum() / weights.sum())


# --- accuracy family --------------------------------------------------------------------------------
def top_k_hits(labels, scores, k):
    return np.array([label in np.argsort(-row)[:k] for label, row in zip(labels, scores)], dtype=np.float64)


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
def test_accuracies(weights):
    argmax_hits = (SCORES.argmax(1) == LABELS).astype(np.float64)
    cases = [
        (metrics.SparseCategoricalAccuracy(), LABELS, argmax_hits),
        (metrics.CategoricalAccuracy(), ONE_HOT, argmax_hits),
        (metrics.BinaryAccuracy(), BINARY_TRUE, ((BINARY_PRED > 0.5) == BINARY_TRUE)[:, 0]),
        (metrics.BinaryAccuracy(threshold=0.8), BINARY_TRUE, ((BINARY_PRED > 0.8) == BINARY_TRUE)[:, 0]),
        (metrics.TopKCategoricalAccuracy(k=2), ONE_HOT, top_k_hits(LABELS, SCORES, 2)),
        (metrics.SparseTopKCategoricalAccuracy(k=3), LABELS, top_k_hits(LABELS, SCORES, 3)),
        (metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True), LABELS,
         top_k_hits(LABELS, SCORES, 2)),
        (metrics.Accuracy(), LABELS, (SCORES.argmax(1) == LABELS)),
    ]
    for metric, y_true, hits in cases:
        y_pred = np.argsort(-SCORES, axis=1) if getattr(metric, "_fn_kwargs", {}).get("from_sorted_ids") else \
            SCORES.argmax(1) if isinstance(metric, metrics.Accuracy) else \
            BINARY_PRED if isinstance(metric, metrics.BinaryAccuracy) else SCORES
        assert batched(metric, y_true, y_pred, weights) == pytest.approx(weighted_mean(hits, weights), rel=1e-6), \
            metric.name


def test_top_k_counts_ties_as_in_and_k_above_classes():
    scores = np.array([[0.5, 0.5, 0.1], [0.2, 0.3, 0.5]], np.float32)
    assert metrics.SparseTopKCategoricalAccuracy(k=1)(np.array([1, 0]), scores) == 0.5
    assert metrics.SparseTopKCategoricalAccuracy(k=7)(np.array([1, 0]), scores) == 1.0


def test_accuracy_by_shape_as_keras_3():
    picks = [(LABELS, SCORES, metrics.sparse_categorical_accuracy), (LABELS[:, None], SCORES,
             metrics.sparse_categorical_accuracy), (ONE_HOT, SCORES, metrics.categorical_accuracy),
             (BINARY_TRUE, BINARY_PRED, metrics.binary_accuracy)]
    for y_true, y_pred, fn in picks:
        metric = metrics.get("accuracy")
        metric.update_state(y_true, y_pred)
        assert metric._fn is fn and metric.name == "accuracy"


def test_regression_metrics():
    y_true, y_pred = rng.standard_normal((N, 3)), rng.standard_normal((N, 3)).astype(np.float32)
    squared, absolute = ((y_pred - y_true) ** 2).mean(1), np.abs(y_pred - y_true).mean(1)
    assert batched(metrics.MeanSquaredError(), y_true, y_pred, WEIGHTS) == pytest.approx(
        weighted_mean(squared, WEIGHTS), rel=1e-5)
    assert batched(metrics.MeanAbsoluteError(), y_true, y_pred) == pytest.approx(absolute.mean(), rel=1e-5)
    assert batched(metrics.RootMeanSquaredError(), y_true, y_pred) == pytest.approx(np.sqrt(squared.mean()),
                                                                                    rel=1e-5)


def test_mean_and_sum():
    values = rng.standard_normal(N)
    mean, total = metrics.Mean(), metrics.Sum()
    for part in np.split(values, 4):
        mean.update_state(part, sample_weight=WEIGHTS[:len(part)])
        total.update_state(part)
    expected = sum((p * WEIGHTS[:len(p)]).sum() for p in np.split(values, 4)) / (WEIGHTS[:N // 4].sum() * 4)
    assert mean.result() == pytest.approx(expected) and total.result() == pytest.approx(values.sum())
    mean.reset_state()
    assert mean.result() == 0.0
    rows = metrics.Mean()
    rows.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=np.array([1.0, 3.0]))  # row means 2, 6
    assert rows.result() == pytest.approx((2 * 1 + 6 * 3) / 4)


# --- confusion-count metrics ------------------------------------------------------------------------
def confusion_at(y_true, y_pred, threshold, weights=None):
    weights = np.ones_like(y_pred, dtype=np.float64) if weights is None else np.broadcast_to(
        weights.reshape(-1, *([1] * (y_pred.ndim - 1))), y_pred.shape)
    positive, predicted = y_true != 0, y_pred > threshold
    return [float((weights * (positive & predicted)).sum()), float((weights * (~positive & predicted)).sum()),
            float((weights * (~positive & ~predicted)).sum()), float((weights * (positive & ~predicted)).sum())]


def test_precision_and_recall():
    for thresholds in (None, 0.3, [0.7, 0.2, 0.5]):
        listed = [0.5] if thresholds is None else np.atleast_1d(thresholds)
        counts = [confusion_at(ONE_HOT, SCORES, t, WEIGHTS) for t in listed]
        precision = [tp / (tp + fp) for tp, fp, _, _ in counts]
        recall = [tp / (tp + fn) for tp, _, _, fn in counts]
        got_precision = batched(metrics.Precision(thresholds), ONE_HOT, SCORES, WEIGHTS)
        got_recall = batched(metrics.Recall(thresholds), ONE_HOT, SCORES, WEIGHTS)
        np.testing.assert_allclose(np.atleast_1d(got_precision), precision, rtol=1e-6)
        np.testing.assert_allclose(np.atleast_1d(got_recall), recall, rtol=1e-6)


def test_precision_recall_class_id_and_top_k():
    tp, fp, _, fn = confusion_at(ONE_HOT[:, 2], SCORES[:, 2], 0.5)
    assert batched(metrics.Precision(class_id=2), ONE_HOT, SCORES) == pytest.approx(tp / (tp + fp))
    top = np.zeros_like(PROBS, dtype=bool)
    top[np.arange(N), PROBS.argmax(1)] = True  # top_k=1: only each row's highest score is predicted positive
    tp, fp, _, fn = confusion_at(ONE_HOT, np.where(top, 1.0, 0.0), 0.5)
    assert batched(metrics.Recall(top_k=1), ONE_HOT, PROBS) == pytest.approx(tp / (tp + fn))
    assert batched(metrics.Precision(top_k=1), ONE_HOT, PROBS) == pytest.approx(tp / (tp + fp))


def keras_thresholds(num):
    return np.array([-1e-7] + [(i + 1) / (num - 1) for i in range(num - 2)] + [1 + 1e-7], np.float32)


def reference_auc(y_true, y_pred, num=200, curve="ROC", summation="interpolation", weights=None):
    """Keras' AUC from counts at its thresholds, computed by direct comparison."""
    tp, fp, tn, fn = np.array([confusion_at(y_true, y_pred, t, weights) for t in keras_thresholds(num)]).T
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=tp + fn > 0)
    if curve == "PR" and summation == "interpolation":  # Davis & Goadrich 2006, as Keras closes the integral
        p = tp + fp
        total = 0.0
        for i in range(num - 1):
            dtp, dp = tp[i] - tp[i + 1], p[i] - p[i + 1]
            slope = dtp / dp if dp > 0 else 0.0
            intercept = tp[i + 1] - slope * p[i + 1]
            ratio = p[i] / p[i + 1] if p[i] > 0 and p[i + 1] > 0 else 1.0
            if tp[i + 1] + fn[i + 1] > 0:
                total += slope * (dtp + intercept * np.log(ratio)) / (tp[i + 1] + fn[i + 1])
        return total
    if curve == "ROC":
        x, y = np.divide(fp, fp + tn, out=np.zeros_like(fp), where=fp + tn > 0), recall
    else:
        x, y = recall, np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
    heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[summation]
    return float(((x[:-1] - x[1:]) * heights).sum())


@pytest.mark.parametrize("curve,summation", [("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"),
                                             ("PR", "interpolation"), ("PR", "majoring")])
def test_auc_against_counts_at_keras_thresholds(curve, summation):
    auc = metrics.AUC(curve=curve, summation_method=summation)
    assert batched(auc, BINARY_TRUE, BINARY_PRED, WEIGHTS) == pytest.approx(
        reference_auc(BINARY_TRUE, BINARY_PRED, curve=curve, summation=summation, weights=WEIGHTS), rel=1e-5)


def test_auc_roc_close_to_the_exact_rank_statistic():
    labels = rng.integers(0, 2, 2000)
    scores = np.clip(0.3 * labels + rng.random(2000) * 0.7, 0, 1).astype(np.float32)
    positive, negative = scores[labels == 1], scores[labels == 0]
    exact = ((positive[:, None] > negative[None, :]).mean() + 0.5 * (positive[:, None] == negative[None, :]).mean())
    assert metrics.AUC(num_thresholds=1000)(labels, scores) == pytest.approx(exact, abs=2e-3)


def test_auc_multi_label_and_options():
    labels = (rng.random((N, 3)) > 0.5).astype(np.float32)
    scores = rng.random((N, 3)).astype(np.float32)
    per_label = [reference_auc(labels[:, j], scores[:, j], num=50) for j in range(3)]
    assert metrics.AUC(50, multi_label=True)(labels, scores) == pytest.approx(np.mean(per_label), rel=1e-5)
    weighted = metrics.AUC(50, multi_label=True, label_weights=[1, 0, 3])(labels, scores)
    assert weighted == pytest.approx((per_label[0] + 3 * per_label[2]) / 4, rel=1e-5)
    logits = np.log(BINARY_PRED / (1 - BINARY_PRED))
    assert metrics.AUC(from_logits=True)(BINARY_TRUE, logits) == pytest.approx(
        metrics.AUC()(BINARY_TRUE, BINARY_PRED), abs=1e-6)
    given = metrics.AUC(thresholds=[0.25, 0.5, 0.75])
    assert given.num_thresholds == 5 and given(BINARY_TRUE, BINARY_PRED) == pytest.approx(
        metrics.AUC(num_thresholds=5)(BINARY_TRUE, BINARY_PRED))


def f_beta_reference(y_true, y_pred, beta, average, threshold=None, weights=None):
    eps = 1e-7
    predicted = (y_pred >= y_pred.max(1, keepdims=True)) & (np.abs(y_pred) > 1e-9) if threshold is None \
        else y_pred > threshold
    predicted = predicted.astype(np.float64)
    w = np.ones((len(y_true), 1)) if weights is None else weights[:, None].astype(np.float64)
    axis = None if average == "micro" else 0
    tp = (predicted * y_true * w).sum(axis)
    fp = (predicted * (1 - y_true) * w).sum(axis)
    fn = ((1 - predicted) * y_true * w).sum(axis)
    precision, recall = tp / (tp + fp + eps), tp / (tp + fn + eps)
    score = (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall + eps)
    if average == "weighted":
        support = (y_true * w).sum(0)
        return (score * support / (support.sum() + eps)).sum()
    return score.mean() if average else score


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_and_f_beta_scores(average):
    np.testing.assert_allclose(batched(metrics.F1Score(average), ONE_HOT, PROBS, WEIGHTS),
                               f_beta_reference(ONE_HOT, PROBS, 1.0, average, weights=WEIGHTS), rtol=1e-6)
    np.testing.assert_allclose(batched(metrics.FBetaScore(average, beta=2.0, threshold=0.25), ONE_HOT, PROBS),
                               f_beta_reference(ONE_HOT, PROBS, 2.0, average, threshold=0.25), rtol=1e-6)


# --- per-class reports --------------------------------------------------------------------------------
def test_confusion_matrix():
    predicted = SCORES.argmax(1)
    expected = np.zeros((C, C), int)
    for t, p in zip(LABELS, predicted):
        expected[t, p] += 1
    np.testing.assert_array_equal(metrics.confusion_matrix(LABELS, SCORES), expected)
    np.testing.assert_array_equal(metrics.confusion_matrix(ONE_HOT, predicted, num_classes=C), expected)
    np.testing.assert_array_equal(metrics.confusion_matrix([1, 0], np.array([[0.7], [0.2]])), [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        metrics.confusion_matrix([0, 3], [0, 1], num_classes=2)


def test_classification_report():
    y_true, y_pred = [0, 1, 2, 2, 2], [0, 0, 2, 2, 1]
    assert metrics.classification_report(y_true, y_pred, target_names=["cat", "dog", "bird"]) == (
        "              precision    recall  f1-score   support\n"
        "\n"
        "         cat       0.50      1.00      0.67         1\n"
        "         dog       0.00      0.00      0.00         1\n"
        "        bird       1.00      0.67      0.80         3\n"
        "\n"
        "    accuracy                           0.60         5\n"
        "   macro avg       0.50      0.56      0.49         5\n"
        "weighted avg       0.70      0.60      0.61         5\n")
    report = metrics.classification_report(y_true, y_pred, output_dict=True)
    assert report["2"] == {"precision": 1.0, "recall": pytest.approx(2 / 3), "f1-score": pytest.approx(0.8),
                           "support": 3}
    assert report["accuracy"] == pytest.approx(0.6)
    assert report["weighted avg"]["f1-score"] == pytest.approx((2 / 3 * 1 + 0 + 0.8 * 3) / 5)


# --- lookup, config, training ----------------------------------------------------------------------------
def test_get_and_config_round_trip():
    for name, cls in [("mae", metrics.MeanAbsoluteError), ("AUC", metrics.AUC), ("f1_score", metrics.F1Score),
                      ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy), ("precision", metrics.Precision)]:
        assert isinstance(metrics.get(name), cls)
    for metric in [metrics.AUC(50, curve="PR", thresholds=None), metrics.F1Score("macro", 0.4),
                   metrics.Precision([0.2, 0.4], class_id=1), metrics.SparseTopKCategoricalAccuracy(3, name="top3"),
                   metrics.BinaryAccuracy(threshold=0.7)]:
        again = metrics.deserialize(metrics.serialize(metric))
        assert type(again) is type(metric) and again.get_config() == metric.get_config()
    wrapped = metrics.get(lambda y_true, y_pred: abs(y_pred - y_true))
    assert wrapped(np.zeros(2), np.array([1.0, 3.0])) == 2.0
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'"):
        metrics.get("acuracy")
    with pytest.raises(ValueError, match="average must be None"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="thresholds must be in \\[0, 1\\]"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="y_true of shape \\(3,\\) does not match"):
        metrics.MeanSquaredError()(np.zeros(3), np.zeros((2, 2)))


def test_compiled_metrics_match_the_predictions():
    dc.utils.set_random_seed(0)
    x = rng.standard_normal((96, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)[:, None]
    model = dc.Sequential([dc.Input((8,)), dc.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=["accuracy", metrics.AUC(), metrics.Precision(), metrics.Recall()])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    predicted = model.predict(x, verbose=0)
    tp, fp, _, fn = confusion_at(y, predicted, 0.5)
    assert logs["accuracy"] == pytest.approx(((predicted > 0.5) == y).mean(), rel=1e-6)
    assert logs["precision"] == pytest.approx(tp / (tp + fp), rel=1e-6)
    assert logs["recall"] == pytest.approx(tp / (tp + fn), rel=1e-6)
    assert logs["auc"] == pytest.approx(reference_auc(y, predicted), rel=1e-5)
