"""Per-coordinate step sizes from accumulated squared gradients: RMSprop, Adagrad, Adadelta (Keras 3 rules)."""
from __future__ import annotations

from ..backend.device import get_array_module
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """Tieleman & Hinton 2012, as Keras: v = rho v + (1 - rho) g^2; step = lr g / sqrt(v + eps), where
    centered (Graves 2013) uses v - a^2 with a = rho a + (1 - rho) g; with momentum, s = momentum s + step
    and w -= s, else w -= step."""

    slot_names = ("velocity", "momentum", "average_gradient")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= rho < 1:
            raise ValueError(f"RMSprop: rho must be in [0, 1), got {rho!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"RMSprop: momentum must be in [0, 1], got {momentum!r}")
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        v = self.slot(variable, "velocity")
        v += (1 - self.rho) * (grad * grad - v)
        if self.centered:
            a = self.slot(variable, "average_gradient")
            a += (1 - self.rho) * (grad - a)
            step = lr * grad / xp.sqrt(v - a * a + self.epsilon)
        else:
            step = lr * grad / xp.sqrt(v + self.epsilon)
        if self.momentum > 0:
            s = self.slot(variable, "momentum")
            s *= self.momentum
            s += step
            step = s
        variable.data -= step

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    """Duchi et al. 2011, as Keras: a += g^2 (a starts at initial_accumulator_value); w -= lr g / sqrt(a + eps)."""

    slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not initial_accumulator_value >= 0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be >= 0, got {initial_accumulator_value!r}")
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        a = self.slot(variable, "accumulator", self.initial_accumulator_value)
        a += grad * grad
        variable.data -= lr * grad / xp.sqrt(a + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Zeiler 2012, Alg. 1, as Keras (with a learning rate in front):
    Eg = rho Eg + (1 - rho) g^2; d = sqrt(Ed + eps) / sqrt(Eg + eps) g; Ed = rho Ed + (1 - rho) d^2; w -= lr d."""

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= rho < 1:
            raise ValueError(f"Adadelta: rho must be in [0, 1), got {rho!r}")
        self.rho, self.epsilon = rho, epsilon

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        eg, ed = self.slot(variable, "accumulated_grad"), self.slot(variable, "accumulated_delta_var")
        eg += (1 - self.rho) * (grad * grad - eg)
        delta = xp.sqrt(ed + self.epsilon) / xp.sqrt(eg + self.epsilon) * grad
        ed += (1 - self.rho) * (delta * delta - ed)
        variable.data -= lr * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
