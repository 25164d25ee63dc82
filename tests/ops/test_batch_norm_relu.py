"""ops.batch_norm_relu / batch_norm_relu_infer: float64 gradient checks, and parity with batch norm then ReLU
unfused (outputs, batch statistics, gradients) on every device."""
import numpy as np
import pytest

from deepcore import ops
from deepcore.autograd import Tensor, grad_check
from deepcore.autograd.function import enable_grad
from deepcore.backend import to_device

rng = np.random.default_rng(23)


def host(a):
    return to_device(a, "cpu")


def arrays(xp, *shapes):
    return [xp.asarray(rng.standard_normal(s)) for s in shapes]


@pytest.mark.parametrize("shape", [(4, 3, 3, 5), (7, 2), (1, 2, 3, 4)], ids=str)
def test_gradients(xp, shape):
    x, gamma, beta = arrays(xp, shape, shape[-1:], shape[-1:])
    grad_check(lambda a, g, b: ops.batch_norm_relu(a, g, b, 1e-3)[0], [x, gamma, beta])
    mean, variance = xp.asarray(rng.standard_normal(shape[-1])), xp.asarray(rng.random(shape[-1]) + 0.5)
    grad_check(lambda a, g, b: ops.batch_norm_relu_infer(a, g, b, mean, variance, 1e-3), [x, gamma, beta])


def run(fn, arrays_, projection):
    """fn's output and the gradients of sum(fn(*arrays_) * projection) for each input."""
    with enable_grad():
        tensors = [Tensor(a, requires_grad=True) for a in arrays_]
        out = fn(*tensors)
        (out * Tensor(projection)).sum().backward()
    return [host(out.data)] + [host(t.grad) for t in tensors]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 5, 5, 16), (3, 70), (128, 4, 4, 64)], ids=str)
def test_matches_batch_norm_then_relu(xp, shape, dtype):
    x, gamma, beta, projection = (a.astype(dtype) for a in arrays(xp, shape, shape[-1:], shape[-1:], shape))
    fused_stats, unfused_stats = [], []

    def fused(a, g, b):
        y, mean, variance = ops.batch_norm_relu(a, g, b, 1e-3)
        fused_stats.extend([host(mean), host(variance)])
        return y

    def unfused(a, g, b):
        y, mean, variance = ops.batch_norm_train(a, g, b, 1e-3)
        unfused_stats.extend([host(mean), host(variance)])
        return ops.relu(y)

    tolerance = {np.float32: 1e-4, np.float64: 1e-12}[dtype]
    for got, want in zip(run(fused, [x, gamma, beta], projection), run(unfused, [x, gamma, beta], projection)):
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * max(1.0, float(np.abs(want).max())))
    for got, want in zip(fused_stats, unfused_stats):
        np.testing.assert_array_equal(got, want)  # the same statistics kernel

    mean, variance = xp.asarray(fused_stats[0]), xp.asarray(fused_stats[1] + 0.5)
    got = run(lambda a, g, b: ops.batch_norm_relu_infer(a, g, b, mean, variance, 1e-3), [x, gamma, beta], projection)
    want = run(lambda a, g, b: ops.relu(ops.batch_norm_infer(a, g, b, mean, variance, 1e-3)), [x, gamma, beta],
               projection)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=tolerance, atol=tolerance * max(1.0, float(np.abs(w).max())))


def test_output_is_clamped_and_keeps_the_batch_statistics(xp):
    x, gamma, beta = arrays(xp, (6, 3, 4), (4,), (4,))
    y, mean, variance = ops.batch_norm_relu(Tensor(x), Tensor(gamma), Tensor(beta), 1e-3)
    x = host(x).reshape(-1, 4)
    assert (host(y.data) >= 0).all()
    np.testing.assert_allclose(host(mean), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(host(variance), x.var(axis=0), rtol=1e-12)
