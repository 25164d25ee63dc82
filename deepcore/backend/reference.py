"""Reference kernels: plain, readable NumPy (written with ``xp`` so CuPy runs it too).

These are the oracle every fast kernel is tested against, and the fallback
on a device that has no fast version. Layouts: images NHWC, conv filters
``(kh, kw, in_channels, out_channels)``; ``padding`` is
``((top, bottom), (left, right))``; ``stride``/``dilation``/``pool`` are
``(h, w)`` pairs.
"""
from __future__ import annotations

import math

import numpy as np

from .device import get_array_module


def conv_output_size(size, kernel, stride, pad_before, pad_after, dilation=1):
    effective = (kernel - 1) * dilation + 1
    return (size + pad_before + pad_after - effective) // stride + 1


def _pad_nhwc(x, padding, value=0.0):
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    xp = get_array_module(x)
    return xp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def _window(xpad, i, j, out_h, out_w, stride, dilation):
    """The (N, out_h, out_w, C) slice of ``xpad`` seen by kernel offset (i, j)."""
    top, left = i * dilation[0], j * dilation[1]
    return xpad[:, top:top + stride[0] * (out_h - 1) + 1:stride[0],
                left:left + stride[1] * (out_w - 1) + 1:stride[1], :]


def im2col(x, kernel, stride, padding, dilation):
    """(N, H, W, C) -> (N, out_h, out_w, kh, kw, C): every receptive field laid out flat."""
    xp = get_array_module(x)
    n, h, w, c = x.shape
    kh, kw = kernel
    out_h = conv_output_size(h, kh, stride[0], *padding[0], dilation[0])
    out_w = conv_output_size(w, kw, stride[1], *padding[1], dilation[1])
    xpad = _pad_nhwc(x, padding)
    cols = xp.empty((n, out_h, out_w, kh, kw, c), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = _window(xpad, i, j, out_h, out_w, stride, dilation)
    return cols


def col2im(cols, x_shape, stride, padding, dilation):
    """Adjoint of ``im2col``: add every receptive-field entry back to its pixel."""
    xp = get_array_module(cols)
    n, h, w, c = x_shape
    _, out_h, out_w, kh, kw, _ = cols.shape
    (top, bottom), (left, right) = padding
    xpad = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            _window(xpad, i, j, out_h, out_w, stride, dilation)[...] += cols[:, :, :, i, j, :]
    return xpad[:, top:top + h, left:left + w, :]


def conv2d_forward(x, w, stride, padding, dilation):
    """y[n, oh, ow, o] = sum_{i, j, c} xpad[n, oh*s + i*d, ow*s + j*d, c] * w[i, j, c, o]."""
    kh, kw, c_in, c_out = w.shape
    cols = im2col(x, (kh, kw), stride, padding, dilation)
    n, out_h, out_w = cols.shape[:3]
    y = cols.reshape(n * out_h * out_w, kh * kw * c_in) @ w.reshape(kh * kw * c_in, c_out)
    return y.reshape(n, out_h, out_w, c_out)


def conv2d_bias_relu_forward(x, w, bias, stride, padding, dilation, relu=True):
    """conv2d_forward(x, w) + bias (one value per output channel), then ReLU when ``relu``."""
    y = conv2d_forward(x, w, stride, padding, dilation) + bias
    return get_array_module(y).maximum(y, 0) if relu else y


def conv2d_backward_data(gy, w, x_shape, stride, padding, dilation):
    kh, kw, c_in, c_out = w.shape
    n, out_h, out_w, _ = gy.shape
    gcols = gy.reshape(-1, c_out) @ w.reshape(kh * kw * c_in, c_out).T
    return col2im(gcols.reshape(n, out_h, out_w, kh, kw, c_in), x_shape, stride, padding, dilation)


def conv2d_backward_filter(x, gy, w_shape, stride, padding, dilation):
    kh, kw, c_in, c_out = w_shape
    cols = im2col(x, (kh, kw), stride, padding, dilation)
    gw = cols.reshape(-1, kh * kw * c_in).T @ gy.reshape(-1, c_out)
    return gw.reshape(w_shape)


def maxpool2d_forward(x, pool, stride, padding):
    """Returns (y, argmax) where argmax is the flat window offset i*pool_w + j of each maximum."""
    xp = get_array_module(x)
    n, h, w, c = x.shape
    out_h = conv_output_size(h, pool[0], stride[0], *padding[0])
    out_w = conv_output_size(w, pool[1], stride[1], *padding[1])
    xpad = _pad_nhwc(x, padding, value=-xp.inf)
    y = xp.full((n, out_h, out_w, c), -xp.inf, dtype=x.dtype)
    argmax = xp.zeros((n, out_h, out_w, c), dtype=xp.int32)
    for i in range(pool[0]):
        for j in range(pool[1]):
            window = _window(xpad, i, j, out_h, out_w, stride, (1, 1))
            better = window > y
            y = xp.where(better, window, y)
            argmax = xp.where(better, i * pool[1] + j, argmax)
    return y, argmax


def maxpool2d_backward(gy, argmax, x_shape, pool, stride, padding):
    xp = get_array_module(gy)
    n, h, w, c = x_shape
    (top, bottom), (left, right) = padding
    out_h, out_w = gy.shape[1:3]
    gxpad = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=gy.dtype)
    for i in range(pool[0]):
        for j in range(pool[1]):
            hit = argmax == i * pool[1] + j
            _window(gxpad, i, j, out_h, out_w, stride, (1, 1))[...] += xp.where(hit, gy, 0)
    return gxpad[:, top:top + h, left:left + w, :]


def _pool_counts(x_shape, pool, stride, padding, dtype, xp):
    """How many real (unpadded) pixels each average-pooling window covers (TF/Keras semantics)."""
    n, h, w, _ = x_shape
    ones = xp.ones((1, h, w, 1), dtype=dtype)
    return avgpool2d_sum(ones, pool, stride, padding)


def avgpool2d_sum(x, pool, stride, padding):
    xp = get_array_module(x)
    n, h, w, c = x.shape
    out_h = conv_output_size(h, pool[0], stride[0], *padding[0])
    out_w = conv_output_size(w, pool[1], stride[1], *padding[1])
    xpad = _pad_nhwc(x, padding)
    total = xp.zeros((n, out_h, out_w, c), dtype=x.dtype)
    for i in range(pool[0]):
        for j in range(pool[1]):
            total += _window(xpad, i, j, out_h, out_w, stride, (1, 1))
    return total


def avgpool2d_forward(x, pool, stride, padding):
    """Mean over each window, counting only real pixels (padding excluded, as Keras)."""
    xp = get_array_module(x)
    return avgpool2d_sum(x, pool, stride, padding) / _pool_counts(x.shape, pool, stride, padding, x.dtype, xp)


def avgpool2d_backward(gy, x_shape, pool, stride, padding):
    xp = get_array_module(gy)
    n, h, w, c = x_shape
    (top, bottom), (left, right) = padding
    out_h, out_w = gy.shape[1:3]
    share = gy / _pool_counts(x_shape, pool, stride, padding, gy.dtype, xp)
    gxpad = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=gy.dtype)
    for i in range(pool[0]):
        for j in range(pool[1]):
            _window(gxpad, i, j, out_h, out_w, stride, (1, 1))[...] += share
    return gxpad[:, top:top + h, left:left + w, :]


def batchnorm_forward_train(x, gamma, beta, epsilon):
    """Normalize over every axis but the last (channels). Ioffe & Szegedy 2015, Alg. 1.

    Returns (y, mean, variance, inv_std) with the biased batch variance.
    """
    xp = get_array_module(x)
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    variance = ((x - mean) ** 2).mean(axis=axes)
    inv_std = 1.0 / xp.sqrt(variance + epsilon)
    y = (x - mean) * (inv_std * gamma) + beta
    return y.astype(x.dtype, copy=False), mean, variance, inv_std.astype(x.dtype, copy=False)


def batchnorm_forward_infer(x, gamma, beta, mean, variance, epsilon):
    xp = get_array_module(x)
    scale = gamma / xp.sqrt(variance + epsilon)
    return (x * scale + (beta - mean * scale)).astype(x.dtype, copy=False)


def batchnorm_backward(gy, x, gamma, mean, inv_std):
    """Gradients (gx, ggamma, gbeta) of training-mode batch norm.

    gx = gamma * inv_std / m * (m * gy - sum(gy) - xhat * sum(gy * xhat)).
    """
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    xhat = (x - mean) * inv_std
    gbeta = gy.sum(axis=axes)
    ggamma = (gy * xhat).sum(axis=axes)
    gx = (gamma * inv_std / m) * (m * gy - gbeta - xhat * ggamma)
    return gx.astype(x.dtype, copy=False), ggamma, gbeta


def batchnorm_relu_forward_train(x, gamma, beta, epsilon):
    """ReLU(batchnorm_forward_train(x)): returns (y, mean, variance, inv_std), y the ReLU output."""
    y, mean, variance, inv_std = batchnorm_forward_train(x, gamma, beta, epsilon)
    return get_array_module(y).maximum(y, 0), mean, variance, inv_std


def batchnorm_relu_forward_infer(x, gamma, beta, mean, variance, epsilon):
    """ReLU(batchnorm_forward_infer(x))."""
    return get_array_module(x).maximum(batchnorm_forward_infer(x, gamma, beta, mean, variance, epsilon), 0)


def batchnorm_relu_backward(gy, y, x, gamma, mean, inv_std):
    """(gx, ggamma, gbeta) of ReLU(BatchNorm(x)) given y, the ReLU output."""
    return batchnorm_backward(relu_backward(gy, y), x, gamma, mean, inv_std)


def matmul(a, b):
    return a @ b


def dense_forward(x, w, bias, relu):
    """x @ w + bias for 2-D x, then max(., 0) when ``relu`` (a Dense layer's forward)."""
    y = x @ w + bias
    return get_array_module(y).maximum(y, 0) if relu else y


def dense_backward(x, w, g, input_grad):
    """Gradients of x @ w + b given g for the output: (for x, or None unless ``input_grad``; for w; for b)."""
    return (g @ w.T if input_grad else None), x.T @ g, g.sum(axis=0)


def relu_forward(x):
    return get_array_module(x).maximum(x, 0)


def bias_relu_forward(x, bias):
    xp = get_array_module(x)
    return xp.maximum(x + bias, 0)


def add(a, b):
    """a + b (broadcasting): gradient sums in backward, the Add layer."""
    return a + b


def add_relu_forward(a, b):
    """max(a + b, 0) for a and b of one shape (a residual block's end)."""
    return get_array_module(a).maximum(a + b, 0)


def relu_backward(gy, y):
    """Gradient of ReLU given its output y (y > 0 exactly where the input was > 0)."""
    return gy * (y > 0)


def bias_relu_backward(gy, y):
    """Gradients of relu(x + bias) given its output y: (for x, for bias summed over all axes but the last)."""
    gx = relu_backward(gy, y)
    return gx, gx.reshape(-1, gx.shape[-1]).sum(axis=0)


def softmax_forward(x):
    """exp(x - max x) / sum(exp(x - max x)) over the last axis."""
    xp = get_array_module(x)
    exp = xp.exp(x - x.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def label_range_error(labels, classes):
    return ValueError(f"sparse_categorical_crossentropy: labels must be in [0, {classes}), "
                      f"got values in [{int(labels.min())}, {int(labels.max())}]")


def check_host_labels(labels, classes):
    """Raise label_range_error for host labels outside [0, classes); device labels are not checked (a sync)."""
    if get_array_module(labels) is np and labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise label_range_error(labels, classes)


def softmax_cross_entropy_forward(logits, labels):
    """Per-sample -log softmax(logits)[label] for integer labels; returns (loss, softmax)."""
    check_host_labels(labels, logits.shape[-1])
    xp = get_array_module(logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = xp.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    log_prob = shifted - xp.log(total)
    loss = -xp.take_along_axis(log_prob, labels[:, None].astype(xp.int64), axis=-1)[:, 0]
    return loss, exp / total


def softmax_cross_entropy_backward(probabilities, labels, g_loss):
    """d loss_n / d logits = (softmax - onehot(label)) * g_loss_n."""
    check_host_labels(labels, probabilities.shape[-1])
    xp = get_array_module(probabilities)
    grad = probabilities.copy()
    grad[xp.arange(len(labels)), labels] -= 1
    return grad * g_loss[:, None]


# --- optimizer updates: in place, over lists of tensors (one launch on the GPU) ---

def sgd_momentum_update(weights, grads, velocities, learning_rate, momentum, nesterov=False):
    """In place, per tensor, as ``optimizers.SGD.update``: v = m v - lr g; w += v (or m v - lr g, Nesterov)."""
    for i, (w, g) in enumerate(zip(weights, grads)):
        if momentum == 0:  # no velocities needed
            w -= learning_rate * g
            continue
        velocity = velocities[i]
        velocity *= momentum
        velocity -= learning_rate * g
        if nesterov:
            w += momentum * velocity - learning_rate * g
        else:
            w += velocity


def adam_step_size(learning_rate, beta_1, beta_2, iteration):
    """lr * sqrt(1 - beta_2^t) / (1 - beta_1^t): Adam's bias correction folded into the step (t from 1)."""
    return learning_rate * math.sqrt(1 - beta_2 ** iteration) / (1 - beta_1 ** iteration)


def adam_update(weights, grads, firsts, seconds, step_size, beta_1, beta_2, epsilon):
    """In place, per tensor, as ``optimizers.Adam.update`` with ``step_size`` from ``adam_step_size``."""
    for w, g, m, v in zip(weights, grads, firsts, seconds):
        xp = get_array_module(w)
        m *= beta_1
        m += (1 - beta_1) * g
        v *= beta_2
        v += (1 - beta_2) * (g * g)
        w -= step_size * m / (xp.sqrt(v) + epsilon)
