"""Standardization, layer/group norm and local response normalization: gradient checks and NumPy formulas."""
import numpy as np
import pytest

from deepcore import ops
from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device


def host(a):
    return to_device(a, "cpu")


rng = np.random.default_rng(19)


def arrays(xp, *shapes):
    return [xp.asarray(rng.standard_normal(s)) for s in shapes]


@pytest.mark.parametrize("axes", [(-1,), (1, 2), (0,), (1, 3)])
def test_standardize(xp, axes):
    (x,) = arrays(xp, (3, 4, 2, 5))
    grad_check(lambda a: ops.standardize(a, axes, 1e-3), [x])
    got, x = host(ops.standardize(Tensor(x), axes, 1e-3).data), host(x)
    mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
    np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 1e-3))


def test_layer_and_group_norm(xp):
    x, gamma, beta = arrays(xp, (2, 3, 4, 6), (6,), (6,))
    grad_check(lambda a, g, b: ops.layer_norm(a, g, b, (-1,), 1e-3), [x, gamma, beta])
    grad_check(lambda a, g, b: ops.group_norm(a, 3, g, b, 1e-3), [x, gamma, beta])
    got = host(ops.group_norm(Tensor(x), 3, Tensor(gamma), Tensor(beta)).data)
    x, gamma, beta = host(x), host(gamma), host(beta)
    grouped = x.reshape(2, 3, 4, 3, 2)
    mean, var = grouped.mean((1, 2, 4), keepdims=True), grouped.var((1, 2, 4), keepdims=True)
    expected = ((grouped - mean) / np.sqrt(var + 1e-3)).reshape(x.shape) * gamma + beta
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def naive_lrn(x, radius, bias, alpha, beta):
    c = x.shape[-1]
    y = np.empty_like(x)
    for k in range(c):
        window = x[..., max(0, k - radius):min(c, k + radius + 1)]
        y[..., k] = x[..., k] / (bias + alpha * (window ** 2).sum(-1)) ** beta
    return y


@pytest.mark.parametrize("radius,bias,alpha,beta", [(2, 2.0, 1e-4, 0.75), (1, 1.0, 0.5, 0.5), (0, 1.5, 0.3, 1.0),
                                                    (5, 1.0, 0.2, 0.75)])
def test_local_response_norm(xp, radius, bias, alpha, beta):
    (x,) = arrays(xp, (2, 3, 3, 7))
    fn = lambda a: ops.local_response_norm(a, radius, bias, alpha, beta)
    grad_check(fn, [x])
    np.testing.assert_allclose(host(fn(Tensor(x)).data), naive_lrn(host(x), radius, bias, alpha, beta), rtol=1e-10)


def test_local_response_norm_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 5, 4, 8)).astype(np.float32) * 3
    size = 5  # AlexNet: n = 5 neighbours, k = 2; torch averages the squares, so its alpha is n times ours
    expected = torch.nn.LocalResponseNorm(size, alpha=1e-4 * size, beta=0.75, k=2.0)(
        torch.tensor(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ops.local_response_norm(Tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
