"""Weight initializers with Keras' names, formulas and defaults.

Values are drawn on the host from deepcore's seeded generator, then moved to
the current device, so a seed gives the same weights on CPU and GPU.
"""
from __future__ import annotations

import math

import numpy as np

from .backend import random
from .backend.device import to_device


def compute_fans(shape):
    """(fan_in, fan_out) as Keras: Dense (in, out); conv (*kernel, in, out) times the receptive field."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    def __call__(self, shape, dtype="float32"):
        return to_device(np.asarray(self.sample(tuple(shape), random.generator()), dtype=dtype))

    def sample(self, shape, rng):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    def sample(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    def sample(self, shape, rng):
        return np.ones(shape)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, rng):
        rng = rng if self.seed is None else np.random.default_rng(self.seed)
        return self.mean + self.stddev * rng.standard_normal(shape, dtype=np.float32)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def sample(self, shape, rng):
        rng = rng if self.seed is None else np.random.default_rng(self.seed)
        return self.minval + (self.maxval - self.minval) * rng.random(shape, dtype=np.float32)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras' VarianceScaling: variance = scale / n, n = fan_in, fan_out or their mean.

    'truncated_normal' cuts at 2 stddev and rescales by 0.87962566 (the stddev
    of a unit normal truncated to [-2, 2]) so the variance is as asked.
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"VarianceScaling: unknown distribution {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def sample(self, shape, rng):
        rng = rng if self.seed is None else np.random.default_rng(self.seed)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.random(shape, dtype=np.float32)  # in place: VGG's 100M-weight layers need no temporaries
            values *= 2 * limit
            values -= limit
            return values
        if self.distribution == "untruncated_normal":
            return math.sqrt(variance) * rng.standard_normal(shape, dtype=np.float32)
        stddev = math.sqrt(variance) / 0.87962566103423978
        return stddev * random.truncated_standard_normal(rng, shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal(mean, stddev) redrawn outside two standard deviations, as Keras."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, shape, rng):
        rng = rng if self.seed is None else np.random.default_rng(self.seed)
        return self.mean + self.stddev * random.truncated_standard_normal(rng, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class Orthogonal(Initializer):
    """Saxe et al. 2014: the Q of a QR decomposition of a normal matrix (signs fixed by R's diagonal),
    of shape (prod(shape[:-1]), shape[-1]), times ``gain``; Keras' default for recurrent kernels."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def sample(self, shape, rng):
        rng = rng if self.seed is None else np.random.default_rng(self.seed)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        q, r = np.linalg.qr(rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols))))
        q *= np.sign(np.diag(r))
        return np.ascontiguousarray(self.gain * (q.T if rows < cols else q)).reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


def GlorotUniform(seed=None):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def GlorotNormal(seed=None):
    return VarianceScaling(1.0, "fan_avg", "truncated_normal", seed)


def HeNormal(seed=None):
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def HeUniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def LecunNormal(seed=None):
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def LecunUniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal,
    "he_uniform": HeUniform, "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal, "truncated_normal": TruncatedNormal,
}


def get(identifier):
    """An initializer from a name ('he_normal'), a serialized dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer) or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        return _lookup(identifier["class_name"])(**identifier.get("config", {}))
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise TypeError(f"initializers.get: expected a name, dict or Initializer, got {type(identifier).__name__}")


def _lookup(name):
    key = "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")
    if key not in _BY_NAME:
        raise ValueError(f"Unknown initializer {name!r}; expected one of {sorted(_BY_NAME)}")
    return _BY_NAME[key]


def serialize(initializer):
    if isinstance(initializer, Initializer):
        return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
    return initializer
