"""Loss objects and functions with Keras names.

A Loss computes per-sample values (the function form), optionally weights them
per sample, and reduces them as Keras: "sum_over_batch_size" (the default: the
mean over the batch), "sum", or "none"/None (the per-sample vector).
"""
from __future__ import annotations

import re

from .autograd import arithmetic as A
from .autograd.tensor import Tensor, unwrap
from .backend.device import get_array_module
from .ops import losses as L
from .ops.nn_extra import sparse_categorical_crossentropy as _per_position

REDUCTIONS = ("sum_over_batch_size", "sum", "none", None)


class Loss:
    fn = None

    def __init__(self, name=None, reduction="sum_over_batch_size", **options):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.options = options

    def per_sample(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, **self.options)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.per_sample(y_true, y_pred)
        mask = getattr(y_pred, "_keras_mask", None)
        if mask is not None:
            values = self._masked(values, mask)
        if values.ndim > 1:  # e.g. (batch, time): average the trailing axes per sample
            values = A.mean(values, axis=tuple(range(1, values.ndim)))
        if sample_weight is not None:
            weight = unwrap(sample_weight)
            xp = get_array_module(values.data)
            values = A.mul(values, Tensor(xp.asarray(weight, dtype=values.dtype).reshape(-1)))
        if self.reduction in ("none", None):
            return values
        return A.sum(values) if self.reduction == "sum" else A.mean(values)

    def _masked(self, values, mask):
        """Keras 3: masked entries weigh 0 and, for a mean, the others total / valid (a mean over valid ones)."""
        xp = get_array_module(values.data)
        mask = xp.asarray(unwrap(mask)).astype(values.dtype)
        if mask.shape != values.shape:
            raise ValueError(f"{self.name}: the output's mask of shape {mask.shape} does not match the per-step "
                             f"losses of shape {values.shape}")
        if self.reduction == "sum_over_batch_size":
            mask = mask * (mask.size / max(float(mask.sum()), 1e-7))
        return A.mul(values, Tensor(mask))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.options}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _snake(name):
    """'KLDivergence' -> 'kl_divergence', as Keras names its losses."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


# --- function forms -------------------------------------------------------------------------------

def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    target = L.smooth_labels(unwrap(y_true).astype(y_pred.dtype, copy=False), label_smoothing, binary=False)
    return L.categorical_crossentropy(target, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    target = L.smooth_labels(unwrap(y_true).astype(y_pred.dtype, copy=False), label_smoothing, binary=True)
    return L.binary_crossentropy(target, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Integer labels of shape y_pred.shape[:-1] (or with a trailing 1): one loss per sample, or per step."""
    return _per_position(y_true, y_pred, from_logits)
mean_squared_error = mse = L.mean_squared_error
mean_absolute_error = mae = L.mean_absolute_error
mean_absolute_percentage_error = mape = L.mean_absolute_percentage_error
mean_squared_logarithmic_error = msle = L.mean_squared_logarithmic_error
huber = L.huber
log_cosh = logcosh = L.log_cosh
kl_divergence = kld = kullback_leibler_divergence = L.kl_divergence
poisson = L.poisson
hinge = L.hinge
squared_hinge = L.squared_hinge
categorical_hinge = L.categorical_hinge
cosine_similarity = L.cosine_similarity


# --- classes ----------------------------------------------------------------------------------------

class SparseCategoricalCrossentropy(Loss):
    fn = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name=None):
        super().__init__(name, reduction, from_logits=from_logits)


class CategoricalCrossentropy(Loss):
    fn = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, reduction="sum_over_batch_size", name=None):
        super().__init__(name, reduction, from_logits=from_logits, label_smoothing=label_smoothing)


class BinaryCrossentropy(Loss):
    fn = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, reduction="sum_over_batch_size", name=None):
        super().__init__(name, reduction, from_logits=from_logits, label_smoothing=label_smoothing)


def _simple(function, doc=None):
    """A Loss class whose only arguments are reduction and name."""
    class Simple(Loss):
        fn = staticmethod(function)

        def __init__(self, reduction="sum_over_batch_size", name=None):
            super().__init__(name, reduction)
    Simple.__doc__ = doc
    return Simple


class MeanSquaredError(_simple(L.mean_squared_error)):
    pass


class MeanAbsoluteError(_simple(L.mean_absolute_error)):
    pass


class MeanAbsolutePercentageError(_simple(L.mean_absolute_percentage_error)):
    pass


class MeanSquaredLogarithmicError(_simple(L.mean_squared_logarithmic_error)):
    pass


class LogCosh(_simple(L.log_cosh)):
    pass


class KLDivergence(_simple(L.kl_divergence)):
    pass


class Poisson(_simple(L.poisson)):
    pass


class Hinge(_simple(L.hinge)):
    pass


class SquaredHinge(_simple(L.squared_hinge)):
    pass


class CategoricalHinge(_simple(L.categorical_hinge)):
    pass


class Huber(Loss):
    fn = staticmethod(L.huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None):
        super().__init__(name, reduction, delta=delta)


class CosineSimilarity(Loss):
    fn = staticmethod(L.cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name=None):
        super().__init__(name, reduction, axis=axis)


_BY_NAME = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
    "huber": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "poisson": Poisson, "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "cosine_similarity": CosineSimilarity,
}


def get(identifier):
    """A Loss from a name, a Loss instance, or a function ``fn(y_true, y_pred) -> per-sample losses``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown loss {identifier!r}; expected one of {sorted(_BY_NAME)}")
        return _BY_NAME[identifier]()
    if callable(identifier):
        loss = Loss(name=getattr(identifier, "__name__", "loss"))
        loss.per_sample = identifier
        return loss
    raise TypeError(f"losses.get: expected a loss name, Loss or callable, got {type(identifier).__name__}")


__all__ = [  # the public names; the helpers imported above stay out of `import *`
    "BinaryCrossentropy", "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity", "Hinge", "Huber",
    "KLDivergence", "LogCosh", "Loss", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Poisson", "REDUCTIONS", "SparseCategoricalCrossentropy", "SquaredHinge",
    "binary_crossentropy", "categorical_crossentropy", "categorical_hinge", "cosine_similarity", "get",
    "hinge", "huber", "kl_divergence", "kld", "kullback_leibler_divergence", "log_cosh", "logcosh", "mae",
    "mape", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "mse", "msle", "poisson", "sparse_categorical_crossentropy",
    "squared_hinge",
]
