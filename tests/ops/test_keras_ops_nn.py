"""keras.ops' nn and linalg parts against formulas written here in NumPy (torch where it is the
clearer oracle), with float64 gradient checks."""
import math

import numpy as np
import pytest

from deepcore import ops
from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device

rng = np.random.default_rng(11)


def host(t):
    return to_device(t.data if isinstance(t, Tensor) else t, "cpu")


def check(xp, op, reference, *inputs, grad=True, rtol=1e-7, atol=1e-9):
    device_inputs = [xp.asarray(a) for a in inputs]
    np.testing.assert_allclose(host(op(*[Tensor(a) for a in device_inputs])), reference(*inputs), rtol=rtol, atol=atol)
    if grad:
        grad_check(op, device_inputs)


def away_from_kinks(shape, kinks=(-1.0, 0.0, 1.0, 0.5, -0.5)):
    x = rng.standard_normal(shape) * 2
    for k in kinks:
        x[np.abs(x - k) < 1e-2] += 0.05
    return x


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = [
    ("gelu-tanh", ops.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("log_sigmoid", ops.log_sigmoid, lambda x: np.log(sigmoid(x))),
    ("celu", lambda t: ops.celu(t, 0.7), lambda x: np.maximum(x, 0) + np.minimum(0.7 * (np.exp(x / 0.7) - 1), 0)),
    ("glu", ops.glu, lambda x: x[:, :2] * sigmoid(x[:, 2:])),
    ("hard_tanh", ops.hard_tanh, lambda x: np.clip(x, -1, 1)),
    ("hard_shrink", ops.hard_shrink, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    ("soft_shrink", ops.soft_shrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    ("tanh_shrink", ops.tanh_shrink, lambda x: x - np.tanh(x)),
    ("squareplus", ops.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2),
    ("sparse_plus", ops.sparse_plus, lambda x: np.where(x >= 1, x, np.where(x <= -1, 0, (x + 1) ** 2 / 4))),
    ("threshold", lambda t: ops.threshold(t, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0)),
    ("relu6", ops.relu6, lambda x: np.clip(x, 0, 6)),
    ("softplus", ops.softplus, lambda x: np.log1p(np.exp(x))),
    ("silu", ops.silu, lambda x: x * sigmoid(x)),
    ("log_softmax", ops.log_softmax, lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    ("softmax-axis0", lambda t: ops.softmax(t, axis=0), lambda x: np.exp(x) / np.exp(x).sum(0)),
]


@pytest.mark.parametrize("name,op,reference", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations(xp, name, op, reference):
    check(xp, op, reference, away_from_kinks((3, 4)))


def test_sparsemax(xp):
    def reference(z):  # the simplex projection by sorting, row by row
        out = np.zeros_like(z)
        for i, row in enumerate(z):
            s = np.sort(row)[::-1]
            k = np.arange(1, len(row) + 1)
            support = 1 + k * s > np.cumsum(s)
            kz = k[support][-1]
            out[i] = np.maximum(row - (np.cumsum(s)[kz - 1] - 1) / kz, 0)
        return out
    x = rng.standard_normal((4, 5))
    check(xp, ops.sparsemax, reference, x)
    np.testing.assert_allclose(host(ops.sparsemax(xp.asarray(x))).sum(-1), 1)


def naive_conv1d(x, w, stride=1):
    n, length, c = x.shape
    k, _, o = w.shape
    out = (length - k) // stride + 1
    return np.stack([np.einsum("nkc,kco->no", x[:, i * stride:i * stride + k], w) for i in range(out)], axis=1)


def test_conv_dispatches_on_rank_and_takes_data_format(xp):
    x, w = rng.standard_normal((2, 7, 3)), rng.standard_normal((3, 3, 4))
    check(xp, lambda a, b: ops.conv(a, b, strides=2), lambda a, b: naive_conv1d(a, b, 2), x, w)
    x2, w2 = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 2, 3))
    channels_last = host(ops.conv(xp.asarray(x2), xp.asarray(w2), padding="same"))
    channels_first = host(ops.conv(xp.asarray(x2.transpose(0, 3, 1, 2)), xp.asarray(w2), padding="same",
                                   data_format="channels_first"))
    np.testing.assert_allclose(channels_first.transpose(0, 2, 3, 1), channels_last, rtol=1e-10)
    with pytest.raises(ValueError):
        ops.conv(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 4, 3)))


def test_depthwise_separable_and_transposed_conv(xp):
    x, dw, pw = rng.standard_normal((1, 6, 3)), rng.standard_normal((2, 3, 2)), rng.standard_normal((1, 6, 4))
    per_channel = lambda a, k: np.concatenate(  # noqa: E731
        [naive_conv1d(a[..., c:c + 1], k[:, c:c + 1, :]) for c in range(a.shape[-1])], axis=-1)
    check(xp, ops.depthwise_conv, per_channel, x, dw)
    check(xp, ops.separable_conv, lambda a, k, p: np.einsum("ntc,co->nto", per_channel(a, k), p[0]), x, dw, pw)
    x2, w2 = rng.standard_normal((1, 3, 3, 2)), rng.standard_normal((2, 2, 4, 2))
    y = host(ops.conv_transpose(xp.asarray(x2), xp.asarray(w2), strides=2))
    expected = np.zeros((1, 6, 6, 4))  # each input pixel paints a stride-spaced kernel patch
    for i in range(3):
        for j in range(3):
            expected[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2] += np.einsum("c,hwoc->hwo", x2[0, i, j], w2)
    np.testing.assert_allclose(y, expected, rtol=1e-10)


@pytest.mark.parametrize("kind", ["max", "average"])
def test_pools_by_rank(xp, kind):
    op = ops.max_pool if kind == "max" else ops.average_pool
    reduce = np.max if kind == "max" else np.mean
    x = rng.standard_normal((2, 6, 3))
    check(xp, lambda t: op(t, 2), lambda a: reduce(a.reshape(2, 3, 2, 3), axis=2), x)
    x3 = rng.standard_normal((1, 4, 4, 4, 2))
    check(xp, lambda t: op(t, 2), lambda a: reduce(a.reshape(1, 2, 2, 2, 2, 2, 2, 2).transpose(0, 1, 3, 5, 2, 4, 6, 7)
                                                   .reshape(1, 2, 2, 2, 8, 2), axis=4), x3)
    with pytest.raises(ValueError):
        op(np.zeros((2, 3)), 2)


def test_normalization_ops(xp):
    x = rng.standard_normal((4, 3, 5))
    mean, var = ops.moments(xp.asarray(x), axes=(0, 1))
    np.testing.assert_allclose(host(mean), x.mean((0, 1)))
    np.testing.assert_allclose(host(var), x.var((0, 1)))
    m, v, beta, gamma = rng.standard_normal(5), rng.uniform(0.5, 2, 5), rng.standard_normal(5), rng.standard_normal(5)
    check(xp, lambda a, b, c, d, e: ops.batch_normalization(a, b, c, axis=-1, offset=d, scale=e),
          lambda a, b, c, d, e: (a - b) / np.sqrt(c + 1e-3) * e + d, x, m, v, beta, gamma)
    check(xp, lambda a: ops.normalize(a, axis=1), lambda a: a / np.linalg.norm(a, axis=1, keepdims=True), x)
    check(xp, lambda a: ops.rms_normalization(a), lambda a: a / np.sqrt((a * a).mean(-1, keepdims=True) + 1e-7), x)
    check(xp, lambda a: ops.layer_normalization(a, epsilon=1e-5),
          lambda a: (a - a.mean(-1, keepdims=True)) / np.sqrt(a.var(-1, keepdims=True) + 1e-5), x, rtol=1e-6)
    with pytest.raises(ValueError):
        ops.batch_normalization(x, np.zeros(4), np.ones(5), axis=-1)


def test_losses_keep_keras_ops_shapes(xp):
    logits = rng.standard_normal((2, 3, 4))
    labels = rng.integers(0, 4, (2, 3))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    onehot = np.eye(4)[labels]
    check(xp, lambda t: ops.sparse_categorical_crossentropy(xp.asarray(labels), t, from_logits=True),
          lambda a: -np.take_along_axis(log_p, labels[..., None], -1)[..., 0], logits)
    check(xp, lambda t: ops.categorical_crossentropy(xp.asarray(onehot), t, from_logits=True),
          lambda a: -(onehot * log_p).sum(-1), logits)
    check(xp, lambda t: ops.categorical_crossentropy(xp.asarray(onehot.transpose(0, 2, 1)), t, from_logits=True,
                                                     axis=1),
          lambda a: -(onehot * log_p).sum(-1), logits.transpose(0, 2, 1))
    p, t = rng.uniform(0.1, 0.9, (3, 2)), rng.integers(0, 2, (3, 2)).astype(float)
    check(xp, lambda a: ops.binary_crossentropy(xp.asarray(t), a), lambda a: -(t * np.log(a) + (1 - t) * np.log(1 - a)),
          p)
    check(xp, lambda a: ops.binary_crossentropy(xp.asarray(t), a, from_logits=True),
          lambda a: -(t * np.log(sigmoid(a)) + (1 - t) * np.log(1 - sigmoid(a))), p)
    with pytest.raises(ValueError):
        ops.sparse_categorical_crossentropy(np.zeros((2, 2), int), np.zeros((2, 3, 4)))


def reference_attention(q, k, v, allowed=None):
    scores = np.einsum("btnh,bsnh->bnts", q, k) / math.sqrt(q.shape[-1])
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", w, v)


def test_dot_product_attention(xp):
    q, k, v = rng.standard_normal((2, 3, 2, 4)), rng.standard_normal((2, 5, 2, 4)), rng.standard_normal((2, 5, 2, 4))
    check(xp, ops.dot_product_attention, reference_attention, q, k, v)
    mask = rng.random((2, 1, 3, 5)) > 0.3
    mask[..., 0] = True
    check(xp, lambda a, b, c: ops.dot_product_attention(a, b, c, mask=xp.asarray(mask)),
          lambda a, b, c: reference_attention(a, b, c, mask), q, k, v)
    causal = np.tril(np.ones((3, 5), bool))
    check(xp, lambda a, b, c: ops.dot_product_attention(a, b, c, is_causal=True),
          lambda a, b, c: reference_attention(a, b, c, causal), q, k, v)
    with pytest.raises(ValueError):
        ops.dot_product_attention(q, k, v, mask=np.ones((2, 3, 3), bool))


def test_segments_windows_in_top_k_psnr(xp):
    data, ids = rng.standard_normal((5, 2)), np.array([0, 2, 0, 1, 2])
    check(xp, lambda d: ops.segment_sum(d, ids, num_segments=4),
          lambda d: np.stack([d[ids == s].sum(0) for s in range(4)]), data)
    check(xp, lambda d: ops.segment_max(d, ids), lambda d: np.stack([d[ids == s].max(0) for s in range(3)]), data)
    signal = rng.standard_normal((2, 10))
    check(xp, lambda s: ops.extract_sequences(s, 4, 3),
          lambda s: np.stack([s[:, i:i + 4] for i in (0, 3, 6)], axis=1), signal)
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(host(ops.in_top_k(xp.asarray([2, 0]), xp.asarray(scores), 1)), [False, False])
    np.testing.assert_array_equal(host(ops.in_top_k(xp.asarray([2, 1]), xp.asarray(scores), 2)), [True, True])
    a, b = rng.random((4, 4)), rng.random((4, 4))
    check(xp, lambda s, t: ops.psnr(s, t, 1.0), lambda s, t: 10 * np.log10(1 / ((s - t) ** 2).mean()), a, b)


def spd(n, batch=()):
    m = rng.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def test_linalg_differentiable(xp):
    a, b = spd(3, (2,)), rng.standard_normal((2, 3, 2))
    check(xp, ops.inv, np.linalg.inv, a)
    check(xp, ops.det, np.linalg.det, rng.standard_normal((2, 3, 3)))
    check(xp, ops.logdet, lambda m: np.linalg.slogdet(m)[1], a)
    sign, logabs = ops.slogdet(xp.asarray(-a))
    np.testing.assert_allclose(host(sign), np.linalg.slogdet(-a)[0])
    check(xp, ops.solve, np.linalg.solve, a, b)
    check(xp, ops.solve, np.linalg.solve, a[:1], rng.standard_normal(3))
    lower = np.tril(a[0])
    check(xp, lambda m, v: ops.solve_triangular(m, v, lower=True), lambda m, v: np.linalg.solve(np.tril(m), v),
          lower, b[0])
    # Cholesky's gradient through a symmetric parametrization m m^T + n I (the result must be symmetric)
    m = rng.standard_normal((3, 3))
    check(xp, lambda t: ops.cholesky(ops.add(ops.matmul(t, ops.transpose(t)), 3 * np.eye(3))),
          lambda t: np.linalg.cholesky(t @ t.T + 3 * np.eye(3)), m)
    x = rng.standard_normal((3, 4))
    for kwargs, reference in (({}, np.linalg.norm(x)), ({"axis": 1}, np.linalg.norm(x, axis=1)),
                              ({"ord": 1, "axis": 0}, np.linalg.norm(x, ord=1, axis=0)),
                              ({"ord": np.inf, "axis": 1}, np.linalg.norm(x, ord=np.inf, axis=1)),
                              ({"ord": 3, "axis": 1}, np.linalg.norm(x, ord=3, axis=1)),
                              ({"ord": "fro", "axis": (0, 1)}, np.linalg.norm(x, "fro")),
                              ({"ord": 1, "axis": (0, 1)}, np.linalg.norm(x, 1)),
                              ({"ord": -np.inf, "axis": (0, 1)}, np.linalg.norm(x, -np.inf))):
        check(xp, lambda t: ops.norm(t, **kwargs), lambda t: reference, x)


def test_linalg_forward_only(xp):
    a = spd(3)
    w, v = ops.eigh(xp.asarray(a))
    np.testing.assert_allclose(host(w), np.linalg.eigh(a)[0])
    q, r = ops.qr(xp.asarray(a))
    np.testing.assert_allclose(host(q) @ host(r), a, atol=1e-10)
    u, s, vt = ops.svd(xp.asarray(a))
    np.testing.assert_allclose((host(u) * host(s)) @ host(vt), a, atol=1e-10)
    np.testing.assert_allclose(host(ops.svd(xp.asarray(a), compute_uv=False)), np.linalg.svd(a, compute_uv=False))
    lu, pivots = ops.lu_factor(xp.asarray(a))
    n = 3
    L, U = np.tril(host(lu), -1) + np.eye(n), np.triu(host(lu))
    P = np.eye(n)
    for k, p in enumerate(host(pivots)):
        P[[k, p]] = P[[p, k]]
    np.testing.assert_allclose(P @ a, L @ U, atol=1e-10)
    np.testing.assert_allclose(host(ops.lstsq(xp.asarray(a), xp.asarray(np.ones(3)))), np.linalg.solve(a, np.ones(3)))
    t = Tensor(xp.asarray(a), requires_grad=True)
    with pytest.raises(NotImplementedError):
        ops.eigh(t)[0].sum().backward()
    with pytest.raises(ValueError):
        ops.inv(np.zeros((2, 3)))
