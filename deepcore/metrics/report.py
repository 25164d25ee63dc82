"""Per-class results on the host: a confusion matrix and a classification report (scikit-learn's layout)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import unwrap
from ..backend.device import to_device


def _class_indices(who, values, name):
    """Class indices from indices, one-hot rows or per-class scores (argmax), or one sigmoid output (> 0.5)."""
    values = np.asarray(to_device(unwrap(values), "cpu"))
    if values.ndim > 1 and values.shape[-1] > 1:
        return values.argmax(axis=-1).reshape(-1)
    values = values.reshape(-1)
    if np.issubdtype(values.dtype, np.floating) and not np.all(np.mod(values, 1) == 0):
        return (values > 0.5).astype(np.int64)
    if values.size and values.min() < 0:
        raise ValueError(f"{who}: {name} holds negative class indices such as {values.min()}")
    return values.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes=None) -> np.ndarray:
    """counts[i, j]: samples of true class i predicted as class j (rows true, columns predicted, as
    tf.math.confusion_matrix and scikit-learn)."""
    who = "confusion_matrix"
    true, pred = _class_indices(who, y_true, "y_true"), _class_indices(who, y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(f"{who}: y_true has {true.size} samples but y_pred has {pred.size}")
    seen = int(max(true.max(initial=-1), pred.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = seen
    elif seen > num_classes:
        raise ValueError(f"{who}: class index {seen - 1} is out of range for num_classes={num_classes}")
    return np.bincount(true * num_classes + pred, minlength=num_classes * num_classes).reshape(num_classes,
                                                                                               num_classes)


def _ratio(numerator, denominator):
    return np.divide(numerator, denominator, out=np.zeros(np.shape(numerator)), where=denominator != 0)


def classification_report(y_true, y_pred, target_names=None, digits=2, output_dict=False, num_classes=None):
    """Precision, recall, F1 and support per class, then accuracy and macro / support-weighted averages.

    A class with no predictions (or no samples) scores 0 where the ratio is undefined, as scikit-learn's
    default. ``output_dict=True`` returns the numbers as a dict instead of the text table.
    """
    matrix = confusion_matrix(y_true, y_pred, num_classes).astype(np.float64)
    names = [str(c) for c in range(len(matrix))] if target_names is None else [str(n) for n in target_names]
    if len(names) != len(matrix):
        raise ValueError(f"classification_report: {len(names)} target_names for {len(matrix)} classes")
    hits, support, predicted = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
    precision, recall = _ratio(hits, predicted), _ratio(hits, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    total = support.sum()
    rows = {name: {"precision": p, "recall": r, "f1-score": f, "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)}
    averages = {"macro avg": [x.mean() for x in (precision, recall, f1)],
                "weighted avg": [_ratio((x * support).sum(), total).item() for x in (precision, recall, f1)]}
    accuracy = _ratio(hits.sum(), total).item()
    if output_dict:
        return {**rows, "accuracy": accuracy, **{name: {"precision": p, "recall": r, "f1-score": f,
                                                         "support": int(total)}
                                                  for name, (p, r, f) in averages.items()}}
    width = max(len("weighted avg"), digits, *(len(n) for n in names))
    line = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    text = "{:>{width}s} ".format("", width=width) + "".join(f" {h:>9}" for h in
                                                              ("precision", "recall", "f1-score", "support"))
    text += "\n\n" + "".join(line.format(n, r["precision"], r["recall"], r["f1-score"], r["support"], width=width,
                                         digits=digits) for n, r in rows.items())
    text += "\n" + "{:>{width}s} ".format("accuracy", width=width) + " " * 20 + \
        " {:>9.{digits}f} {:>9}\n".format(accuracy, int(total), digits=digits)
    text += "".join(line.format(name, *values, int(total), width=width, digits=digits)
                    for name, values in averages.items())
    return text
