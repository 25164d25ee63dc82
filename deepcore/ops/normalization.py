"""Batch normalization over the last axis (channels), training and inference."""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import kernels


class BatchNormTrain(Function):
    """Normalizes with the batch's own mean and biased variance; keeps them on ``self``."""

    def __init__(self, epsilon):
        self.epsilon = epsilon

    def forward(self, x, gamma, beta):
        y, self.mean, self.variance, self.inv_std = kernels(x).batchnorm_forward_train(x, gamma, beta, self.epsilon)
        self.x, self.gamma = x, gamma
        return y

    def backward(self, gy):
        return kernels(gy).batchnorm_backward(gy, self.x, self.gamma, self.mean, self.inv_std)


class BatchNormInfer(Function):
    """Normalizes with fixed (moving) statistics: an affine map per channel."""

    def __init__(self, mean, variance, epsilon):
        self.mean, self.variance, self.epsilon = mean, variance, epsilon

    def forward(self, x, gamma, beta):
        self.x, self.gamma = x, gamma
        return kernels(x).batchnorm_forward_infer(x, gamma, beta, self.mean, self.variance, self.epsilon)

    def backward(self, gy):
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
