"""Normalization ops: batch norm over the last axis (kernels), standardization over any axes (layer and
group norm), local response normalization."""
from __future__ import annotations

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module, kernels


class BatchNormTrain(Function):
    """Normalizes with the batch's own mean and biased variance; keeps them on ``self``.

    ``relu=True`` is ReLU(BatchNorm(x)) in one pass each way (the ``batchnorm_relu_*`` kernels): the
    forward clamps as it writes, the backward masks the incoming gradient with y > 0 as it reads it.
    Unfused, the ReLU costs one more read and write of the activation forward and two reads and a write
    backward.
    """

    def __init__(self, epsilon, relu=False):
        self.epsilon, self.relu = epsilon, relu

    def forward(self, x, gamma, beta):
        table = kernels(x)
        forward = table.batchnorm_relu_forward_train if self.relu else table.batchnorm_forward_train
        y, self.mean, self.variance, self.inv_std = forward(x, gamma, beta, self.epsilon)
        self.x, self.gamma, self.y = x, gamma, (y if self.relu else None)
        return y

    def backward(self, gy):
        if self.relu:
            return kernels(gy).batchnorm_relu_backward(gy, self.y, self.x, self.gamma, self.mean, self.inv_std)
        return kernels(gy).batchnorm_backward(gy, self.x, self.gamma, self.mean, self.inv_std)


class BatchNormInfer(Function):
    """Normalizes with fixed (moving) statistics: an affine map per channel, then ReLU when ``relu``."""

    def __init__(self, mean, variance, epsilon, relu=False):
        self.mean, self.variance, self.epsilon, self.relu = mean, variance, epsilon, relu

    def forward(self, x, gamma, beta):
        table = kernels(x)
        forward = table.batchnorm_relu_forward_infer if self.relu else table.batchnorm_forward_infer
        y = forward(x, gamma, beta, self.mean, self.variance, self.epsilon)
        self.x, self.gamma, self.y = x, gamma, (y if self.relu else None)
        return y

    def backward(self, gy):
        if self.relu:
            gy = kernels(gy).relu_backward(gy, self.y)
        std = (self.variance + self.epsilon) ** 0.5
        axes = tuple(range(gy.ndim - 1))
        xhat = (self.x - self.mean) / std
        return gy * (self.gamma / std), (gy * xhat).sum(axis=axes), gy.sum(axis=axes)


def batch_norm_train(x, gamma, beta, epsilon=1e-3):
    """Returns (y, batch_mean, batch_variance); the statistics are plain arrays (no gradient)."""
    fn = BatchNormTrain(epsilon=epsilon)
    y = fn(x, gamma, beta)
    return y, fn.mean, fn.variance


def batch_norm_infer(x, gamma, beta, mean, variance, epsilon=1e-3):
    return BatchNormInfer.apply(x, gamma, beta, mean=mean, variance=variance, epsilon=epsilon)


def batch_norm_relu(x, gamma, beta, epsilon=1e-3):
    """relu(batch_norm_train(x, ...)[0]) fused: returns (y, batch_mean, batch_variance) as batch_norm_train."""
    fn = BatchNormTrain(epsilon=epsilon, relu=True)
    y = fn(x, gamma, beta)
    return y, fn.mean, fn.variance


def batch_norm_relu_infer(x, gamma, beta, mean, variance, epsilon=1e-3):
    """relu(batch_norm_infer(x, ...)) fused."""
    return BatchNormInfer.apply(x, gamma, beta, mean=mean, variance=variance, epsilon=epsilon, relu=True)


class Standardize(Function):
    """(x - mean) / sqrt(variance + epsilon) over ``axes`` (biased variance), without an affine part."""

    def __init__(self, axes, epsilon):
        self.axes, self.epsilon = axes, epsilon

    def forward(self, x):
        xp = get_array_module(x)
        mean = x.mean(axis=self.axes, keepdims=True)
        centered = x - mean
        self.inv_std = 1.0 / xp.sqrt((centered * centered).mean(axis=self.axes, keepdims=True) + self.epsilon)
        self.xhat = (centered * self.inv_std).astype(x.dtype, copy=False)
        return self.xhat

    def backward(self, g):
        # d xhat: inv_std * (g - mean(g) - xhat * mean(g * xhat)), means over the normalized axes
        mean_g = g.mean(axis=self.axes, keepdims=True)
        mean_gx = (g * self.xhat).mean(axis=self.axes, keepdims=True)
        return (self.inv_std * (g - mean_g - self.xhat * mean_gx)).astype(g.dtype, copy=False)


def _channel_window_sum(a, radius):
    """s[..., c] = sum of a[..., c - radius : c + radius + 1] (zeros outside), through one cumulative sum."""
    xp = get_array_module(a)
    padded = xp.pad(a, [(0, 0)] * (a.ndim - 1) + [(radius + 1, radius)])
    total = xp.cumsum(padded, axis=-1)
    return total[..., 2 * radius + 1:] - total[..., :-2 * radius - 1]


class LocalResponseNorm(Function):
    """Krizhevsky et al. 2012: y = x / (bias + alpha * sum over 2r+1 neighbouring channels of x^2) ** beta."""

    def __init__(self, depth_radius, bias, alpha, beta):
        self.radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def forward(self, x):
        self.x = x
        self.scale = self.bias + self.alpha * _channel_window_sum(x * x, self.radius)
        self.factor = self.scale ** -self.beta
        return (x * self.factor).astype(x.dtype, copy=False)

    def backward(self, g):
        inner = _channel_window_sum(g * self.x * self.factor / self.scale, self.radius)
        return (g * self.factor - 2 * self.alpha * self.beta * self.x * inner).astype(g.dtype, copy=False)


def standardize(x, axes, epsilon=1e-3):
    return Standardize.apply(x, axes=tuple(axes), epsilon=epsilon)


def _affine(y, gamma, beta):
    y = y if gamma is None else A.mul(y, gamma)
    return y if beta is None else A.add(y, beta)


def layer_norm(x, gamma, beta, axes=(-1,), epsilon=1e-3):
    """standardize(x) over ``axes`` * gamma + beta; gamma/beta (or None) broadcast against x."""
    return _affine(standardize(x, axes, epsilon), gamma, beta)


def group_norm(x, groups, gamma, beta, epsilon=1e-3):
    """Wu & He 2018, channels last: standardize each sample over its spatial axes and one group of
    channels/groups consecutive channels, then scale and shift per channel."""
    shape = x.shape
    if shape[-1] % groups:
        raise ValueError(f"group_norm: channels ({shape[-1]}) must be a multiple of groups ({groups})")
    grouped = A.reshape(x, shape[:-1] + (groups, shape[-1] // groups))
    axes = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
    return _affine(A.reshape(standardize(grouped, axes, epsilon), shape), gamma, beta)


def local_response_norm(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75):
    """Over the last (channel) axis; the defaults are AlexNet's (n = 5 channels, k = 2)."""
    return LocalResponseNorm.apply(x, depth_radius=depth_radius, bias=bias, alpha=alpha, beta=beta)
