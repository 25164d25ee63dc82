"""Recurrent ops: float64 gradient checks of backpropagation through time, and a step-by-step NumPy
reference of each cell written from its equations (Keras gate order)."""
import numpy as np
import pytest

from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device
from deepcore.ops.embedding import embedding
from deepcore.ops import recurrent as R


def host(a):
    return to_device(a, "cpu")


rng = np.random.default_rng(29)
N, T, F, U = 2, 4, 3, 3


def arrays(xp, *shapes, scale=0.5):
    return [xp.asarray(rng.standard_normal(s) * scale) for s in shapes]


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("masked", [False, True])
def test_simple_rnn_gradients(xp, activation, masked):
    x, w, u, b, h0 = arrays(xp, (N, T, F), (F, U), (U, U), (U,), (N, U))
    mask = xp.asarray(rng.random((N, U)) * 2) if masked else None
    grad_check(lambda *a: R.simple_rnn(*a, activation=activation, recurrent_mask=mask), [x, w, u, b, h0])


@pytest.mark.parametrize("activation,gate", [("tanh", "sigmoid"), ("relu", "hard_sigmoid")])
@pytest.mark.parametrize("masked", [False, True])
def test_lstm_gradients(xp, activation, gate, masked):
    x, w, u, b, h0, c0 = arrays(xp, (N, T, F), (F, 4 * U), (U, 4 * U), (4 * U,), (N, U), (N, U))
    mask = xp.asarray(rng.random((N, U)) * 2) if masked else None
    grad_check(lambda *a: R.lstm(*a, activation=activation, recurrent_activation=gate, recurrent_mask=mask),
               [x, w, u, b, h0, c0])


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_gru_gradients(xp, reset_after, masked):
    x, w, u, h0 = arrays(xp, (N, T, F), (F, 3 * U), (U, 3 * U), (N, U))
    (b,) = arrays(xp, (2, 3 * U) if reset_after else (3 * U,))
    mask = xp.asarray(rng.random((N, U)) * 2) if masked else None
    grad_check(lambda *a: R.gru(*a, reset_after=reset_after, recurrent_mask=mask), [x, w, u, b, h0])


def reference_lstm(x, w, u, b, h, c):
    hs, cs = [], []
    for t in range(x.shape[1]):
        z = x[:, t] @ w + h @ u + b
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.concatenate([np.stack(hs, 1), np.stack(cs, 1)], axis=-1)


def reference_gru(x, w, u, b, h, reset_after):
    hs = []
    units = h.shape[-1]
    for t in range(x.shape[1]):
        xw = x[:, t] @ w + (b[0] if reset_after else b)
        if reset_after:
            rec = h @ u + b[1]
            z = sigmoid(xw[:, :units] + rec[:, :units])
            r = sigmoid(xw[:, units:2 * units] + rec[:, units:2 * units])
            candidate = np.tanh(xw[:, 2 * units:] + r * rec[:, 2 * units:])
        else:
            z = sigmoid(xw[:, :units] + h @ u[:, :units])
            r = sigmoid(xw[:, units:2 * units] + h @ u[:, units:2 * units])
            candidate = np.tanh(xw[:, 2 * units:] + (r * h) @ u[:, 2 * units:])
        h = z * h + (1 - z) * candidate
        hs.append(h)
    return np.stack(hs, 1)


def test_cells_match_their_equations():
    x, w4, u4, b4, h0, c0 = arrays(np, (N, T, F), (F, 4 * U), (U, 4 * U), (4 * U,), (N, U), (N, U))
    np.testing.assert_allclose(R.lstm(Tensor(x), w4, u4, b4, h0, c0).data, reference_lstm(x, w4, u4, b4, h0, c0),
                               rtol=1e-12)
    w3, u3 = w4[:, :3 * U], u4[:, :3 * U]
    for reset_after, b in ((True, rng.standard_normal((2, 3 * U))), (False, rng.standard_normal(3 * U))):
        np.testing.assert_allclose(R.gru(Tensor(x), w3, u3, b, h0, reset_after=reset_after).data,
                                   reference_gru(x, w3, u3, b, h0, reset_after), rtol=1e-12)
    w1, u1, b1 = w4[:, :U], u4[:, :U], b4[:U]
    expected, h = [], h0
    for t in range(T):
        h = np.tanh(x[:, t] @ w1 + h @ u1 + b1)
        expected.append(h)
    np.testing.assert_allclose(R.simple_rnn(Tensor(x), w1, u1, b1, h0).data, np.stack(expected, 1), rtol=1e-12)


def test_embedding_gradient_adds_repeated_ids(xp):
    (table,) = arrays(xp, (5, 3))
    ids = xp.asarray([[0, 2, 2], [4, 0, 1]])
    grad_check(lambda t: embedding(ids, t), [table])
    np.testing.assert_array_equal(host(embedding(ids, Tensor(table)).data), host(table)[host(ids)])
    with pytest.raises(ValueError, match=r"ids must be in \[0, 5\), got values in \[0, 5\]"):
        embedding(xp.asarray([0, 5]), Tensor(table))
