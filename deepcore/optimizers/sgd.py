"""Stochastic gradient descent with (Nesterov) momentum."""
from __future__ import annotations

from ..backend import kernels
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

    def update_all(self, variables, grads, lr):
        """The fused kernel ``sgd_momentum_update`` (numba on the CPU, one CUDA launch on the GPU)."""
        if self.momentum == 0:
            return False
        weights = [v.data for v in variables]
        velocities = [self.slot(v, "momentum") for v in variables]
        kernels(weights[0]).sgd_momentum_update(weights, grads, velocities, lr, self.momentum, self.nesterov)
        return True

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
