"""Optimizers with Keras' names, defaults and update rules, updating weights in place."""
from __future__ import annotations

import math

from .backend.device import get_array_module


class Optimizer:
    """Base: gradient clipping, learning-rate schedules and per-variable slots.

    ``learning_rate`` may be a float or a callable ``schedule(iterations)``.
    """

    def __init__(self, learning_rate=0.001, clipnorm=None, clipvalue=None, global_clipnorm=None, name=None):
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: set at most one of clipnorm, clipvalue, global_clipnorm")
        if not callable(learning_rate) and not learning_rate > 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be > 0, got {learning_rate!r}")
        self._learning_rate = learning_rate
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots: dict = {}

    @property
    def learning_rate(self) -> float:
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else float(lr)

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = value

    def slot(self, variable, name):
        """A zero-initialized state array for ``variable`` (momentum, moments)."""
        key = (id(variable), name)
        if key not in self._slots:
            self._slots[key] = get_array_module(variable.data).zeros_like(variable.data)
        return self._slots[key]

    def _clip(self, grads):
        xp = get_array_module(grads[0]) if grads else None
        if self.clipvalue is not None:
            grads = [xp.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            grads = [g * min(1.0, self.clipnorm / (float(xp.sqrt((g * g).sum())) + 1e-12)) for g in grads]
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
            grads = [g * min(1.0, self.global_clipnorm / (norm + 1e-12)) for g in grads]
        return grads

    def apply(self, grads, variables):
        """One update step of ``variables`` (Variables) with ``grads`` (arrays, same order)."""
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return
        clipped = self._clip([g for g, _ in pairs])
        lr = self.learning_rate
        self.iterations += 1
        for g, (_, variable) in zip(clipped, pairs):
            if g.dtype != variable.dtype:
                g = g.astype(variable.dtype)
            self.update(variable, g, lr)

    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))

    def update(self, variable, grad, lr):
        raise NotImplementedError

    def get_config(self):
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": lr if not callable(lr) else float(lr(0)),
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SGD(Optimizer):
    """Keras SGD: v = momentum * v - lr * g; w += v, or w += momentum * v - lr * g with nesterov."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum!r}")
        self.momentum, self.nesterov = momentum, nesterov

    def update(self, variable, grad, lr):
        w = variable.data
        if self.momentum == 0:
            w -= lr * grad
            return
        velocity = self.slot(variable, "velocity")
        velocity *= self.momentum
        velocity -= lr * grad
        if self.nesterov:
            w += self.momentum * velocity - lr * grad
        else:
            w += velocity

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Kingma & Ba 2015, Alg. 1 with Keras' epsilon placement:
    w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if amsgrad:
            raise ValueError("Adam: amsgrad=True is not supported yet")
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        m, v = self.slot(variable, "m"), self.slot(variable, "v")
        t = self.iterations
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        v *= self.beta_2
        v += (1 - self.beta_2) * (grad * grad)
        step = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        variable.data -= step * m / (xp.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class RMSprop(Optimizer):
    """Keras RMSprop (no momentum/centered yet): a = rho a + (1 - rho) g^2; w -= lr g / sqrt(a + eps)."""

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        average = self.slot(variable, "average")
        average *= self.rho
        average += (1 - self.rho) * grad * grad
        variable.data -= lr * grad / xp.sqrt(average + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(identifier):
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() not in _BY_NAME:
            raise ValueError(f"Unknown optimizer {identifier!r}; expected one of {sorted(_BY_NAME)}")
        return _BY_NAME[identifier.lower()]()
    raise TypeError(f"optimizers.get: expected an optimizer name or Optimizer, got {type(identifier).__name__}")
