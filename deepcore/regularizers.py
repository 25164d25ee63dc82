"""Weight penalties added to the loss: L1, L2, L1L2 (Keras names and defaults)."""
from __future__ import annotations

from .autograd import arithmetic as A


class Regularizer:
    def __call__(self, weight):
        raise NotImplementedError

    def get_config(self):
        return {}


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w**2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        penalty = 0.0
        if self.l2:
            penalty = A.mul(A.sum(A.mul(weight, weight)), self.l2)
        if self.l1:
            sign = weight.data / (abs(weight.data) + (weight.data == 0))  # d|w|/dw, 0 at 0
            l1 = A.mul(A.sum(A.mul(weight, sign)), self.l1)
            penalty = l1 if isinstance(penalty, float) else A.add(penalty, l1)
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def L1(l1=0.01):
    return L1L2(l1=l1)


def L2(l2=0.01):
    return L1L2(l2=l2)


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1=l1, l2=l2)


l1, l2 = L1, L2  # Keras' lower-case aliases


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        table = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01)}
        if identifier not in table:
            raise ValueError(f"Unknown regularizer {identifier!r}; expected one of {sorted(table)}")
        return table[identifier]()
    if isinstance(identifier, dict):
        return L1L2(**identifier.get("config", {}))
    raise TypeError(f"regularizers.get: expected a name or Regularizer, got {type(identifier).__name__}")


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"class_name": "L1L2", "config": regularizer.get_config()}
