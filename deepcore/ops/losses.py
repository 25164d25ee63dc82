"""Per-sample losses as differentiable ops: cross-entropies (stable), regression and hinge losses.

Each returns a vector of one loss per sample; reduction (mean, sample
weights) is the caller's (``deepcore.losses``).
"""
from __future__ import annotations

import math

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..autograd.tensor import unwrap
from ..backend import get_array_module, kernels, reference
from .activations import Softmax, absolute, softplus
from .reduction import max as reduce_max
from .reduction import maximum, minimum

EPSILON = 1e-7  # Keras' backend epsilon, used to clip probabilities


class SparseSoftmaxCrossEntropy(Function):
    """-log softmax(logits)[label] per sample, through the max-subtracted log-sum-exp."""

    def __init__(self, labels):
        self.labels = labels

    def forward(self, logits):
        loss, self.probabilities = kernels(logits).softmax_cross_entropy_forward(logits, self.labels)
        return loss

    def backward(self, g):
        return kernels(g).softmax_cross_entropy_backward(self.probabilities, self.labels, g)


class SoftmaxCrossEntropy(Function):
    """-sum(target * log softmax(logits)) per sample, for dense (e.g. one-hot) targets."""

    def __init__(self, target):
        self.target = target

    def forward(self, logits):
        xp = get_array_module(logits)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_total = xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
        self.probabilities = xp.exp(shifted - log_total)
        return -(self.target * (shifted - log_total)).sum(axis=-1)

    def backward(self, g):
        total = self.target.sum(axis=-1, keepdims=True)
        return (self.probabilities * total - self.target) * g[:, None]


class SigmoidCrossEntropy(Function):
    """Elementwise max(x, 0) - x t + log(1 + exp(-|x|)): binary cross-entropy on logits, stable for any x."""

    def __init__(self, target):
        self.target = target

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        return xp.maximum(x, 0) - x * self.target + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        xp = get_array_module(g)
        return g * (0.5 * (xp.tanh(0.5 * self.x) + 1) - self.target)


class Clip(Function):
    def __init__(self, low, high):
        self.low, self.high = low, high

    def forward(self, x):
        self.inside = (x >= self.low) & (x <= self.high)
        return get_array_module(x).clip(x, self.low, self.high)

    def backward(self, g):
        return g * self.inside


def _softmax_logits(y_pred):
    """The logits a softmax output was computed from, or None (the fused, stable path Keras takes too)."""
    creator = getattr(y_pred, "_creator", None)
    if isinstance(creator, Softmax) and creator.axis in (-1, y_pred.ndim - 1):
        return creator.inputs[0]
    return None


def _check_labels(labels, num_classes):
    """Range-check host labels; device labels are not checked here (that would sync every step):
    ``fit``/``evaluate`` check the whole label array on the host before any compute."""
    reference.check_host_labels(labels, num_classes)
    return labels.astype(get_array_module(labels).int64, copy=False)


def sparse_categorical_crossentropy(labels, y_pred, from_logits=False):
    """Integer labels (N,) against predictions (N, classes)."""
    labels = unwrap(labels).reshape(-1)
    logits = y_pred if from_logits else _softmax_logits(y_pred)
    if logits is not None:  # the kernels range-check host labels as they read them
        return SparseSoftmaxCrossEntropy.apply(logits, labels=labels)
    labels = _check_labels(labels, y_pred.shape[-1])
    xp = get_array_module(labels)
    onehot = xp.eye(y_pred.shape[-1], dtype=y_pred.dtype)[labels]
    return categorical_crossentropy(onehot, y_pred)


def categorical_crossentropy(target, y_pred, from_logits=False):
    """Dense targets (N, classes) against probabilities (or logits with from_logits=True)."""
    target = unwrap(target).astype(y_pred.dtype, copy=False)
    logits = y_pred if from_logits else _softmax_logits(y_pred)
    if logits is not None:
        return SoftmaxCrossEntropy.apply(logits, target=target)
    probabilities = A.div(y_pred, A.sum(y_pred, axis=-1, keepdims=True))
    clipped = Clip.apply(probabilities, low=EPSILON, high=1 - EPSILON)
    return A.neg(A.sum(A.mul(target, A.log(clipped)), axis=-1))


def binary_crossentropy(target, y_pred, from_logits=False):
    """Mean over the last axis of -(t log p + (1 - t) log(1 - p))."""
    target = unwrap(target).astype(y_pred.dtype, copy=False)
    if from_logits:
        return A.mean(SigmoidCrossEntropy.apply(y_pred, target=target), axis=-1)
    p = Clip.apply(y_pred, low=EPSILON, high=1 - EPSILON)
    per_entry = A.add(A.mul(target, A.log(p)), A.mul(1 - target, A.log(A.sub(1.0, p))))
    return A.neg(A.mean(per_entry, axis=-1))


def mean_squared_error(target, y_pred):
    target = unwrap(target).astype(y_pred.dtype, copy=False)
    diff = A.sub(y_pred, target)
    return A.mean(A.mul(diff, diff), axis=-1)


# --- the rest of Keras' losses: per-sample values composed from differentiable ops ------------------

def _target(y_true, y_pred):
    return unwrap(y_true).astype(y_pred.dtype, copy=False)


def smooth_labels(target, label_smoothing, binary):
    """Keras' label smoothing: towards 0.5 for binary targets, towards 1 / classes for categorical ones."""
    if not label_smoothing:
        return target
    return target * (1 - label_smoothing) + label_smoothing * (0.5 if binary else 1.0 / target.shape[-1])


def mean_absolute_error(y_true, y_pred):
    return A.mean(absolute(A.sub(y_pred, _target(y_true, y_pred))), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    target = _target(y_true, y_pred)
    xp = get_array_module(target)
    scale = 100.0 / xp.maximum(xp.abs(target), EPSILON)
    return A.mean(absolute(A.mul(A.sub(target, y_pred), scale)), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    target = _target(y_true, y_pred)
    xp = get_array_module(target)
    diff = A.sub(A.log(A.add(maximum(y_pred, EPSILON), 1.0)), xp.log(xp.maximum(target, EPSILON) + 1))
    return A.mean(A.mul(diff, diff), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """0.5 e^2 where |e| <= delta, else delta (|e| - 0.5 delta), averaged over the last axis."""
    error = absolute(A.sub(y_pred, _target(y_true, y_pred)))
    inner = minimum(error, delta)
    return A.mean(A.add(A.mul(A.mul(inner, inner), 0.5), A.mul(A.sub(error, inner), delta)), axis=-1)


def log_cosh(y_true, y_pred):
    """log(cosh(e)) = e + softplus(-2 e) - log 2, stable for large |e|."""
    error = A.sub(y_pred, _target(y_true, y_pred))
    return A.mean(A.sub(A.add(error, softplus(A.mul(error, -2.0))), math.log(2.0)), axis=-1)


def kl_divergence(y_true, y_pred):
    target = get_array_module(unwrap(y_true)).clip(_target(y_true, y_pred), EPSILON, 1)
    p = Clip.apply(y_pred, low=EPSILON, high=1.0)
    return A.sum(A.mul(target, A.sub(get_array_module(target).log(target), A.log(p))), axis=-1)


def poisson(y_true, y_pred):
    target = _target(y_true, y_pred)
    return A.mean(A.sub(y_pred, A.mul(target, A.log(A.add(y_pred, EPSILON)))), axis=-1)


def _hinge_labels(target):
    """Keras turns {0, 1} labels into {-1, 1}."""
    xp = get_array_module(target)
    return 2 * target - 1 if bool(xp.all((target == 0) | (target == 1))) else target


def hinge(y_true, y_pred):
    margin = A.sub(1.0, A.mul(_hinge_labels(_target(y_true, y_pred)), y_pred))
    return A.mean(maximum(margin, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    positive = maximum(A.sub(1.0, A.mul(_hinge_labels(_target(y_true, y_pred)), y_pred)), 0.0)
    return A.mean(A.mul(positive, positive), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - t) p) - sum(t p) + 1, 0): the best wrong class against the true one."""
    target = _target(y_true, y_pred)
    positive = A.sum(A.mul(target, y_pred), axis=-1)
    negative = reduce_max(A.mul(1 - target, y_pred), axis=-1)
    return maximum(A.add(A.sub(negative, positive), 1.0), 0.0)


def _l2_normalize(x, axis):
    return A.div(x, A.power(maximum(A.sum(A.mul(x, x), axis=axis, keepdims=True), 1e-12), 0.5))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Keras' loss: minus the cosine similarity along ``axis`` (-1 when aligned)."""
    target = _target(y_true, y_pred)
    return A.neg(A.sum(A.mul(_l2_normalize(target, axis), _l2_normalize(y_pred, axis)), axis=axis))
