"""Ops against math written independently here: naive loops, straight from the definitions."""
import numpy as np
import pytest

from deepcore import ops
from deepcore.autograd import Tensor
from deepcore.backend import to_device
from deepcore.ops.conv import resolve_padding

rng = np.random.default_rng(2)


def naive_conv2d(x, w, stride, pads, dilation):
    (top, bottom), (left, right) = pads
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    oh = (h - (kh - 1) * dilation - 1) // stride + 1
    ow = (wd - (kw - 1) * dilation - 1) // stride + 1
    y = np.zeros((n, oh, ow, o))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for p in range(kh):
                    for q in range(kw):
                        y[b, i, j] += x[b, i * stride + p * dilation, j * stride + q * dilation] @ w[p, q]
    return y


def naive_pool(x, pool, stride, pads, reduce):
    (top, bottom), (left, right) = pads
    n, h, w, c = x.shape
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=np.nan)
    oh = (h + top + bottom - pool) // stride + 1
    ow = (w + left + right - pool) // stride + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, i * stride:i * stride + pool, j * stride:j * stride + pool]
            y[:, i, j] = reduce(window, axis=(1, 2))  # nan-aware: padding never counts
    return y


def host(t):
    return to_device(t.data, "cpu")


@pytest.mark.parametrize("stride,padding,dilation", [(1, "valid", 1), (2, "same", 1), (1, "same", 2)])
def test_conv2d_matches_naive(xp, stride, padding, dilation):
    x, w = rng.standard_normal((2, 9, 8, 3)), rng.standard_normal((3, 3, 3, 5))
    pads = resolve_padding(padding, (9, 8), (3, 3), (stride, stride), (dilation, dilation))
    y = ops.conv2d(Tensor(xp.asarray(x)), Tensor(xp.asarray(w)), stride, padding, dilation)
    np.testing.assert_allclose(host(y), naive_conv2d(x, w, stride, pads, dilation), rtol=1e-10, atol=1e-10)


def test_same_padding_keeps_size_and_puts_extra_pixel_after():
    assert resolve_padding("same", (28, 28), (5, 5), (1, 1)) == ((2, 2), (2, 2))
    assert resolve_padding("same", (8, 8), (3, 3), (2, 2)) == ((0, 1), (0, 1))  # as TensorFlow


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_matches_naive(xp, padding):
    x = rng.standard_normal((2, 7, 7, 3))
    pads = resolve_padding(padding, (7, 7), (3, 3), (2, 2))
    ymax = ops.max_pool2d(Tensor(xp.asarray(x)), 3, 2, padding)
    yavg = ops.avg_pool2d(Tensor(xp.asarray(x)), 3, 2, padding)
    np.testing.assert_allclose(host(ymax), naive_pool(x, 3, 2, pads, np.nanmax), rtol=1e-12)
    np.testing.assert_allclose(host(yavg), naive_pool(x, 3, 2, pads, np.nanmean), rtol=1e-12)


def test_batch_norm_matches_formula(xp):
    x = rng.standard_normal((8, 4, 4, 3)) * 3 + 5
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    y, mean, variance = ops.batch_norm_train(Tensor(xp.asarray(x)), Tensor(xp.asarray(gamma)),
                                             Tensor(xp.asarray(beta)), 1e-3)
    flat = x.reshape(-1, 3)
    expected = (x - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-3) * gamma + beta
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(to_device(variance, "cpu"), flat.var(0), rtol=1e-10)  # biased, as Keras


def test_softmax_cross_entropy_is_stable_and_correct(xp):
    logits = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    labels = np.array([1, 2])
    loss = ops.sparse_categorical_crossentropy(xp.asarray(labels), Tensor(xp.asarray(logits)), from_logits=True)
    log_softmax_row2 = np.array([1.0, 2.0, 3.0]) - np.log(np.exp([1.0, 2.0, 3.0]).sum())
    np.testing.assert_allclose(host(loss), [1000.0, -log_softmax_row2[2]], rtol=1e-12)


def test_sparse_labels_out_of_range_raise():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        ops.sparse_categorical_crossentropy(np.array([0, 3]), Tensor(np.zeros((2, 3))), from_logits=True)


def test_conv2d_kernel_larger_than_input_raises():
    with pytest.raises(ValueError, match="smaller than the kernel"):
        ops.conv2d(Tensor(np.zeros((1, 3, 3, 1))), Tensor(np.zeros((5, 5, 1, 1))))


def test_conv2d_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    x, w = rng.standard_normal((2, 10, 9, 3)), rng.standard_normal((3, 3, 3, 4))
    ours = host(ops.conv2d(Tensor(x), Tensor(w), 2, "valid"))
    theirs = torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(w).permute(3, 2, 0, 1),
                                        stride=2).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
