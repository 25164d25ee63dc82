"""The Adam family: Adam (and AMSGrad), AdamW, Adamax, Nadam, with Keras 3's update rules."""
from __future__ import annotations

import numpy as np

from ..backend import kernels
from ..backend.device import get_array_module
from ..backend.reference import adam_step_size
from .optimizer import Optimizer, _scalar


def _check_betas(who, beta_1, beta_2, epsilon):
    for name, value in (("beta_1", beta_1), ("beta_2", beta_2)):
        if not 0 <= value < 1:
            raise ValueError(f"{who}: {name} must be in [0, 1), got {value!r}")
    if not epsilon >= 0:
        raise ValueError(f"{who}: epsilon must be >= 0, got {epsilon!r}")


class Adam(Optimizer):
    """Kingma & Ba 2015, Alg. 1, with Keras' epsilon placement (outside sqrt(v), before the bias correction):
    m += (1 - b1)(g - m); v += (1 - b2)(g^2 - v); w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
    amsgrad (Reddi et al. 2018) divides by sqrt(max over steps of v) instead.
    """

    slot_names = ("momentum", "velocity", "velocity_hat")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _check_betas(type(self).__name__, beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        t = self.iterations
        m += (1 - self.beta_1) * (grad - m)
        v += (1 - self.beta_2) * (grad * grad - v)
        if self.amsgrad:
            v_hat = self.slot(variable, "velocity_hat")
            xp.maximum(v_hat, v, out=v_hat)
            v = v_hat
        alpha = adam_step_size(lr, self.beta_1, self.beta_2, t)
        variable.data -= alpha * m / (xp.sqrt(v) + self.epsilon)

    def update_all(self, variables, grads, lr):
        """The fused kernel ``adam_update`` (numba on the CPU, one CUDA launch on the GPU); not for AMSGrad nor
        for subclasses with their own rule."""
        if self.amsgrad or type(self).update is not Adam.update:
            return False
        weights = [v.data for v in variables]
        firsts = [self.slot(v, "momentum") for v in variables]
        seconds = [self.slot(v, "velocity") for v in variables]
        step_size = adam_step_size(lr, self.beta_1, self.beta_2, self.iterations)
        kernels(weights[0]).adam_update(weights, grads, firsts, seconds, step_size, self.beta_1, self.beta_2,
                                        self.epsilon)
        return True

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Loshchilov & Hutter 2019: Adam with decoupled weight decay, w -= lr * weight_decay * w before each step
    (the base class's weight_decay, on by default here)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float, got None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """Kingma & Ba 2015, Sec. 7.1 (infinity norm), as Keras: m += (1 - b1)(g - m); u = max(b2 * u, |g|);
    w -= lr / (1 - b1^t) * m / (u + eps)."""

    slot_names = ("momentum", "norm")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _check_betas("Adamax", beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        m, u = self.slot(variable, "momentum"), self.slot(variable, "norm")
        m += (1 - self.beta_1) * (grad - m)
        u *= self.beta_2
        xp.maximum(u, xp.abs(grad), out=u)
        variable.data -= lr / (1 - self.beta_1 ** self.iterations) * m / (u + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Dozat 2016 (Adam with Nesterov momentum), as Keras 3, with the momentum schedule
    mu_t = b1 * (1 - 0.5 * 0.96^t) and its running product mu_1 ... mu_t:
    m_hat = mu_{t+1} m / (1 - prod_{t+1}) + (1 - mu_t) g / (1 - prod_t); v_hat = v / (1 - b2^t);
    w -= lr * m_hat / (sqrt(v_hat) + eps)."""

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        _check_betas("Nadam", beta_1, beta_2, epsilon)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.u_product = 1.0

    def _mu(self, t):
        return self.beta_1 * (1 - 0.5 * 0.96 ** t)

    def prepare_step(self):
        self.u_product *= self._mu(self.iterations)

    def update(self, variable, grad, lr):
        xp = get_array_module(grad)
        t = self.iterations
        mu, mu_next = self._mu(t), self._mu(t + 1)
        m, v = self.slot(variable, "momentum"), self.slot(variable, "velocity")
        m += (1 - self.beta_1) * (grad - m)
        v += (1 - self.beta_2) * (grad * grad - v)
        m_hat = (mu_next / (1 - self.u_product * mu_next)) * m + ((1 - mu) / (1 - self.u_product)) * grad
        v_hat = v / (1 - self.beta_2 ** t)
        variable.data -= lr * m_hat / (xp.sqrt(v_hat) + self.epsilon)

    def _scalars(self):
        return {**super()._scalars(), "u_product": np.array(self.u_product, dtype=np.float64)}

    def _set_scalars(self, state):
        super()._set_scalars(state)
        self.u_product = float(_scalar(state.get("u_product", 1.0)))

    def build(self, variables):
        super().build(variables)
        self.u_product = 1.0

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
