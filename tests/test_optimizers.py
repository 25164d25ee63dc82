"""Optimizer trajectories against their published update rules, written out here (and torch.optim)."""
import numpy as np
import pytest

import deepcore as dc


def run(optimizer, grads, w0):
    w = dc.Variable(w0.copy(), name="w")
    trajectory = []
    for g in grads:
        optimizer.apply([g.copy()], [w])
        trajectory.append(w.numpy())
    return np.array(trajectory)


rng = np.random.default_rng(5)
W0 = rng.standard_normal(4).astype(np.float32)
GRADS = [rng.standard_normal(4).astype(np.float32) for _ in range(5)]


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_rule(nesterov):
    lr, mu = 0.1, 0.9
    w, v, expected = W0.astype(np.float64), np.zeros(4), []
    for g in GRADS:
        v = mu * v - lr * g
        w = w + (mu * v - lr * g if nesterov else v)
        expected.append(w)
    np.testing.assert_allclose(run(dc.optimizers.SGD(lr, mu, nesterov), GRADS, W0), expected, rtol=1e-5)


def test_adam_rule():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, m, v, expected = W0.astype(np.float64), np.zeros(4), np.zeros(4), []
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        expected.append(w)
    np.testing.assert_allclose(run(dc.optimizers.Adam(lr), GRADS, W0), expected, rtol=1e-5)


def test_matches_torch_optim_when_installed():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(dc.optimizers.SGD(0.1, momentum=0.9), lambda p: torch.optim.SGD(p, 0.1, momentum=0.9)),
                         (dc.optimizers.Adam(0.01, epsilon=1e-8), lambda p: torch.optim.Adam(p, 0.01, eps=1e-8))]:
        param = torch.nn.Parameter(torch.tensor(W0.copy()))
        optimizer = theirs([param])
        expected = []
        for g in GRADS:
            param.grad = torch.tensor(g)
            optimizer.step()
            expected.append(param.detach().numpy().copy())
        # torch adds eps to sqrt(v_hat), Keras to sqrt(v) before the bias correction: equal up to ~eps
        np.testing.assert_allclose(run(ours, GRADS, W0), expected, rtol=1e-4, atol=1e-6)


def test_clipnorm_and_clipvalue():
    w = dc.Variable(np.zeros(2, np.float32))
    dc.optimizers.SGD(1.0, clipnorm=1.0).apply([np.array([3.0, 4.0], np.float32)], [w])
    np.testing.assert_allclose(w.numpy(), [-0.6, -0.8], rtol=1e-6)
    w = dc.Variable(np.zeros(2, np.float32))
    dc.optimizers.SGD(1.0, clipvalue=0.5).apply([np.array([3.0, -0.2], np.float32)], [w])
    np.testing.assert_allclose(w.numpy(), [-0.5, 0.2], rtol=1e-6)


def test_learning_rate_schedule_callable():
    w = dc.Variable(np.zeros(1, np.float32))
    optimizer = dc.optimizers.SGD(lambda step: 1.0 / (step + 1))
    for _ in range(3):
        optimizer.apply([np.ones(1, np.float32)], [w])
    np.testing.assert_allclose(w.numpy(), [-(1 + 1 / 2 + 1 / 3)], rtol=1e-6)
