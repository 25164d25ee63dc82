"""Stochastic gradient descent with (Nesterov) momentum."""
from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    """Keras SGD: m = momentum * m - lr * g; w += m, or w += momentum * m - lr * g with nesterov.

    With momentum 0: w -= lr * g (no slot).
    """

    slot_names = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **{"name": "SGD", **kwargs})
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be a float in [0, 1], got {momentum!r}")
        self.momentum, self.nesterov = momentum, nesterov

    def update(self, variable, grad, lr):
        w = variable.data
        if self.momentum == 0:
            w -= lr * grad
            return
        m = self.slot(variable, "momentum")
        m *= self.momentum
        m -= lr * grad
        if self.nesterov:
            w += self.momentum * m - lr * grad
        else:
            w += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
