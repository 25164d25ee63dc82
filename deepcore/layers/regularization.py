"""Regularization layers, active only when training: Dropout, SpatialDropout1D/2D/3D, GaussianNoise,
GaussianDropout, AlphaDropout. Noise comes from deepcore's seeded generator (``dc.utils.set_random_seed``);
the ``seed`` argument is kept in the config for Keras compatibility."""
from __future__ import annotations

import math

from .. import ops
from ..autograd import arithmetic as A
from ..backend import random, to_device
from ..backend.device import device_of
from ..ops.activations import SELU_ALPHA, SELU_SCALE
from .activation import number
from .base import Layer
from .convolutional import AXES


def noise(tensor, draw, shape=None):
    """A constant array drawn on the host with ``draw(generator, shape)``, on the tensor's device and dtype."""
    values = draw(random.generator(), shape or tensor.shape).astype(tensor.dtype)
    return to_device(values, device_of(tensor.data))


class _Noise(Layer):
    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = number(self.describe(), "rate", rate, 0.0)
        if self.rate >= 1:
            raise ValueError(f"{self.describe()}: rate must be a float in [0, 1), got {rate!r}")
        self.seed = seed

    def call(self, inputs, training=None):
        return self.noisy(inputs) if training and self.strength() else inputs

    def strength(self):
        return self.rate

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Dropout(_Noise):
    """Inverted dropout (Srivastava et al. 2014): keep with probability 1 - rate, scale by 1 / (1 - rate).
    ``noise_shape`` (None entries take the input's size) shares one draw along axes of size 1."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(rate, seed, **kwargs)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def mask_shape(self, shape):
        if self.noise_shape is None:
            return None
        if len(self.noise_shape) != len(shape):
            raise ValueError(f"{self.describe()}: noise_shape {self.noise_shape} does not match the input's rank, "
                             f"got shape {tuple(shape)}")
        return tuple(n if d is None else d for d, n in zip(self.noise_shape, shape))

    def noisy(self, inputs):
        return ops.dropout(inputs, self.rate, training=True, noise_shape=self.mask_shape(inputs.shape))

    def get_config(self):
        return {**super().get_config(), "noise_shape": self.noise_shape}


class _SpatialDropout(Dropout):
    """Drops whole channels (Tompson et al. 2015): one draw per (sample, channel)."""

    rank = 2

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.input_ndim, cls.input_axes = cls.rank + 2, AXES[cls.rank]

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{self.describe()}: only data_format='channels_last' is supported, got "
                             f"{data_format!r}")
        self.data_format = data_format

    def mask_shape(self, shape):
        return (shape[0],) + (1,) * self.rank + (shape[-1],)

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        del config["noise_shape"]
        return config


class SpatialDropout1D(_SpatialDropout):
    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(_SpatialDropout):
    rank = 2


class SpatialDropout3D(_SpatialDropout):
    rank = 3


class GaussianNoise(_Noise):
    """x + N(0, stddev^2) noise when training."""

    def __init__(self, stddev, seed=None, **kwargs):
        Layer.__init__(self, **kwargs)
        self.stddev = number(self.describe(), "stddev", stddev, 0.0)
        self.seed = seed

    def strength(self):
        return self.stddev

    def noisy(self, inputs):
        return A.add(inputs, noise(inputs, lambda rng, s: rng.normal(0.0, self.stddev, s)))

    def get_config(self):
        return {**Layer.get_config(self), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_Noise):
    """x * N(1, rate / (1 - rate)) noise when training (Srivastava et al. 2014, section 10)."""

    def noisy(self, inputs):
        stddev = math.sqrt(self.rate / (1 - self.rate))
        return A.mul(inputs, noise(inputs, lambda rng, s: rng.normal(1.0, stddev, s)))


class AlphaDropout(Dropout):
    """Dropout that keeps SELU's self-normalization (Klambauer et al. 2017): dropped units take SELU's
    negative saturation value, then an affine map a * x + b restores mean and variance."""

    def noisy(self, inputs):
        alpha_p = -SELU_ALPHA * SELU_SCALE
        keep = noise(inputs, lambda rng, s: rng.random(s) >= self.rate, self.mask_shape(inputs.shape))
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return A.add(A.mul(inputs, keep * a), a * alpha_p * (1 - keep) + b)
