"""Synchronized batch normalization: the mean and variance of the global batch, over every rank.

Used by ``BatchNormalization(synchronized=True)`` in training when a ``DataParallel`` world of several
processes is running; otherwise it is the ordinary (local) batch norm.

Forward: one allreduce of (sum x, sum x^2, count) per channel, in float64. Backward (Ioffe & Szegedy
2015, Alg. 1, with the sums taken over every rank): for the loss averaged over the global batch,
    dL/dx = gamma * inv_std * (g - sum(g) / M - xhat * sum(g * xhat) / M)
where g = share * dy is this rank's dy weighted by its share of the global batch (the gradient
allreduce later weights every gradient by the same share), M the global count, and the result is
divided by share again for the same reason. gamma's and beta's gradients stay local sums; the gradient
allreduce adds them up.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import get_array_module
from ..ops.normalization import batch_norm_train
from .context import process_strategy


class SynchronizedBatchNorm(Function):
    def __init__(self, epsilon, communicator):
        self.epsilon, self.communicator = epsilon, communicator

    def forward(self, x, gamma, beta):
        xp = get_array_module(x)
        axes, channels = tuple(range(x.ndim - 1)), x.shape[-1]
        local_count = x.size // channels
        stats = xp.concatenate([x.sum(axis=axes, dtype=xp.float64), (x * x).sum(axis=axes, dtype=xp.float64),
                                xp.full(1, local_count, dtype=xp.float64)])
        self.communicator.allreduce_sum(stats)
        count = float(stats[-1])
        mean = stats[:channels] / count
        variance = xp.maximum(stats[channels:2 * channels] / count - mean * mean, 0.0)
        self.share = local_count / count
        self.inv_std = (1.0 / xp.sqrt(variance + self.epsilon)).astype(x.dtype)
        self.mean, self.variance = mean.astype(x.dtype), variance.astype(x.dtype)
        self.xhat = (x - self.mean) * self.inv_std
        self.gamma = gamma
        return (self.xhat * gamma + beta).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        axes, channels = tuple(range(gy.ndim - 1)), gy.shape[-1]
        sum_gy = gy.sum(axis=axes, dtype=xp.float64)
        sum_gy_xhat = (gy * self.xhat).sum(axis=axes, dtype=xp.float64)
        sums = self.communicator.allreduce_sum(xp.concatenate([sum_gy, sum_gy_xhat]) * self.share)
        local_count = gy.size // channels  # sum / M / share = sum / local count
        mean_g = (sums[:channels] / local_count).astype(gy.dtype)
        mean_g_xhat = (sums[channels:] / local_count).astype(gy.dtype)
        gx = (self.gamma * self.inv_std) * (gy - mean_g - self.xhat * mean_g_xhat)
        return gx.astype(gy.dtype, copy=False), sum_gy_xhat.astype(gy.dtype), sum_gy.astype(gy.dtype)


def synchronized_batch_norm(x, gamma, beta, epsilon=1e-3):
    """(y, mean, variance) over the global batch of the running DataParallel world (or this process's)."""
    strategy = process_strategy()
    if strategy is None or strategy.size == 1:
        return batch_norm_train(x, gamma, beta, epsilon)
    fn = SynchronizedBatchNorm(epsilon=epsilon, communicator=strategy.device_communicator)
    y = fn(x, gamma, beta)
    return y, fn.mean, fn.variance
