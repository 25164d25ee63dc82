"""Loss objects and functions with Keras names; reduction is the mean over the batch
(Keras' "sum_over_batch_size"), with optional per-sample weights."""
from __future__ import annotations

from .autograd import arithmetic as A
from .autograd.tensor import Tensor, unwrap
from .backend.device import get_array_module
from .ops import losses as L


class Loss:
    fn = None

    def __init__(self, name=None, **options):
        self.name = name or _snake(type(self).__name__)
        self.options = options

    def per_sample(self, y_true, y_pred):
        return type(self).fn(y_true, y_pred, **self.options)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.per_sample(y_true, y_pred)
        if values.ndim > 1:  # e.g. (batch, time): average the trailing axes per sample
            values = A.mean(values, axis=tuple(range(1, values.ndim)))
        if sample_weight is not None:
            weight = unwrap(sample_weight)
            xp = get_array_module(values.data)
            values = A.mul(values, Tensor(xp.asarray(weight, dtype=values.dtype).reshape(-1)))
        return A.mean(values)

    def get_config(self):
        return {"name": self.name, **self.options}


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class SparseCategoricalCrossentropy(Loss):
    fn = staticmethod(L.sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, name=None):
        super().__init__(name, from_logits=from_logits)


class CategoricalCrossentropy(Loss):
    fn = staticmethod(L.categorical_crossentropy)

    def __init__(self, from_logits=False, name=None):
        super().__init__(name, from_logits=from_logits)


class BinaryCrossentropy(Loss):
    fn = staticmethod(L.binary_crossentropy)

    def __init__(self, from_logits=False, name=None):
        super().__init__(name, from_logits=from_logits)


class MeanSquaredError(Loss):
    fn = staticmethod(L.mean_squared_error)

    def __init__(self, name=None):
        super().__init__(name)


sparse_categorical_crossentropy = L.sparse_categorical_crossentropy
categorical_crossentropy = L.categorical_crossentropy
binary_crossentropy = L.binary_crossentropy
mean_squared_error = mse = L.mean_squared_error

_BY_NAME = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
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
