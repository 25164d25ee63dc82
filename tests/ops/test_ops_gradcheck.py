"""Float64 central-difference gradient checks for every differentiable op, on every device."""
import numpy as np
import pytest

from deepcore import ops
from deepcore.autograd import grad_check
from deepcore.backend import to_device
from deepcore.ops.conv import conv2d_bias

rng = np.random.default_rng(1)


def arrays(xp, *shapes):
    return [xp.asarray(rng.standard_normal(s)) for s in shapes]


@pytest.mark.parametrize("strides,padding,dilation", [(1, "valid", 1), (2, "same", 1), ((2, 1), "same", 1),
                                                      (1, "same", 2), (3, "valid", 1)])
def test_conv2d(xp, strides, padding, dilation):
    x, w = arrays(xp, (2, 7, 6, 3), (3, 3, 3, 4))
    grad_check(lambda a, b: ops.conv2d(a, b, strides, padding, dilation), [x, w])


@pytest.mark.parametrize("relu", [False, True])
def test_conv2d_bias(xp, relu):
    x, w, b = arrays(xp, (2, 7, 6, 3), (3, 3, 3, 4), (4,))
    grad_check(lambda a, c, d: conv2d_bias(a, c, d, 1, "same", relu=relu), [x, w, b])


@pytest.mark.parametrize("op", [ops.max_pool2d, ops.avg_pool2d])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same"), (3, 1, "valid"),
                                                  ((2, 3), (1, 2), "same")])
def test_pooling(xp, op, pool, strides, padding):
    (x,) = arrays(xp, (2, 7, 6, 3))
    grad_check(lambda a: op(a, pool, strides, padding), [x])


def test_batch_norm_train_and_infer(xp):
    x, gamma, beta = arrays(xp, (4, 3, 3, 5), (5,), (5,))
    grad_check(lambda a, g, b: ops.batch_norm_train(a, g, b, 1e-3)[0], [x, gamma, beta])
    mean, variance = xp.asarray(rng.standard_normal(5)), xp.asarray(rng.random(5) + 0.5)
    grad_check(lambda a, g, b: ops.batch_norm_infer(a, g, b, mean, variance, 1e-3), [x, gamma, beta])


@pytest.mark.parametrize("fn", [ops.relu, ops.sigmoid, ops.tanh, ops.leaky_relu,
                                lambda a: ops.softmax(a, axis=-1), lambda a: ops.softmax(a, axis=0)])
def test_activations(xp, fn):
    (x,) = arrays(xp, (4, 6))
    x[xp.abs(x) < 1e-3] = 0.5  # keep away from the kink of relu
    grad_check(fn, [x])


def test_dense_bias_and_fused_bias_relu(xp):
    x, w, b = arrays(xp, (5, 4), (4, 3), (3,))
    grad_check(ops.dense, [x, w, b])
    grad_check(lambda a, c, d: ops.dense(a, c, d, relu=True), [x, w, b])
    grad_check(ops.bias_add, [x, w[:, 0]])
    grad_check(lambda a, c: ops.bias_relu(a, c), [x, xp.asarray(rng.standard_normal(4))])


def test_flatten_reshape(xp):
    (x,) = arrays(xp, (2, 3, 4))
    grad_check(ops.flatten, [x])
    grad_check(lambda a: ops.reshape(a, (4, 6)), [x])


def test_losses(xp):
    (logits,) = arrays(xp, (6, 5))
    labels = xp.asarray([0, 4, 2, 1, 1, 3])
    onehot = xp.eye(5)[labels]
    grad_check(lambda a: ops.sparse_categorical_crossentropy(labels, a, from_logits=True), [logits])
    grad_check(lambda a: ops.sparse_categorical_crossentropy(labels, ops.softmax(a)), [logits])
    grad_check(lambda a: ops.categorical_crossentropy(onehot, a, from_logits=True), [logits])
    grad_check(lambda a: ops.categorical_crossentropy(onehot, ops.sigmoid(a)), [logits])  # unfused path
    grad_check(lambda a: ops.binary_crossentropy(onehot, a, from_logits=True), [logits])
    grad_check(lambda a: ops.binary_crossentropy(onehot, ops.sigmoid(a)), [logits])
    grad_check(lambda a: ops.mean_squared_error(onehot, a), [logits])


def test_dropout_gradient_uses_the_same_mask(xp):
    from deepcore.autograd import Tensor
    x = Tensor(xp.ones((50, 40)), requires_grad=True)
    y = ops.dropout(x, 0.3, training=True)
    y.sum().backward()
    np.testing.assert_allclose(to_device(x.grad, "cpu"), to_device(y.data, "cpu"))  # d(sum)/dx = mask / keep
    kept = float((y.data != 0).mean())
    assert 0.6 < kept < 0.8
    np.testing.assert_allclose(to_device(y.data[y.data != 0], "cpu"), 1 / 0.7, rtol=1e-6)
    assert ops.dropout(x, 0.3, training=False) is x
