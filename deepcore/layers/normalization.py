"""BatchNormalization (Keras semantics: biased batch variance, momentum 0.99, epsilon 1e-3)."""
from __future__ import annotations

from .. import initializers, ops
from ..autograd.function import no_grad
from .base import Layer


class BatchNormalization(Layer):
    """Normalizes over the last axis; ``axis`` other than -1 arrives with the catalogue issue.

    In training it uses the batch statistics and updates
    ``moving = moving * momentum + batch * (1 - momentum)``; at inference it
    uses the moving statistics.
    """

    input_min_ndim = 2

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1,):
            raise ValueError(f"{self.describe()}: only axis=-1 (channels last) is supported yet, got {axis!r}")
        if not 0 <= momentum <= 1 or epsilon <= 0:
            raise ValueError(f"{self.describe()}: expected 0 <= momentum <= 1 and epsilon > 0, "
                             f"got momentum={momentum}, epsilon={epsilon}")
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(channels, self.gamma_initializer if self.scale else "ones",
                                     trainable=self.scale, name="gamma")
        self.beta = self.add_weight(channels, self.beta_initializer if self.center else "zeros",
                                    trainable=self.center, name="beta")
        self.moving_mean = self.add_weight(channels, self.moving_mean_initializer, trainable=False,
                                           name="moving_mean")
        self.moving_variance = self.add_weight(channels, self.moving_variance_initializer, trainable=False,
                                               name="moving_variance")

    def call(self, inputs, training=None):
        if training and self.trainable:
            y, mean, variance = ops.batch_norm_train(inputs, self.gamma, self.beta, self.epsilon)
            with no_grad():
                for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
                    moving.data *= self.momentum
                    moving.data += (1 - self.momentum) * batch.astype(moving.dtype, copy=False)
            return y
        return ops.batch_norm_infer(inputs, self.gamma, self.beta, self.moving_mean.data,
                                    self.moving_variance.data, self.epsilon)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer)}
