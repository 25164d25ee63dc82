"""Keras' activations: float64 gradient checks and values against formulas written here."""
import math

import numpy as np
import pytest

from deepcore import activations, ops
from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device

rng = np.random.default_rng(7)


def away_from_kinks(xp, shape, kinks=(0.0,)):
    x = rng.standard_normal(shape) * 3
    for kink in kinks:
        x[np.abs(x - kink) < 1e-2] = kink + 0.5
    return xp.asarray(x)


SMOOTH = [ops.elu, ops.selu, ops.softplus, ops.softsign, ops.silu, ops.mish, ops.exponential,
          lambda a: ops.gelu(a, approximate=False), lambda a: ops.gelu(a, approximate=True),
          lambda a: ops.log_softmax(a, axis=-1), lambda a: ops.log_softmax(a, axis=0),
          lambda a: ops.softmax(a, axis=1)]
KINKED = [(lambda a: ops.relu(a, negative_slope=0.1, max_value=2.5, threshold=0.5), (0.0, 0.5, 2.5)),
          (lambda a: ops.relu(a, threshold=-1.0), (-1.0, 0.0)),
          (ops.relu6, (0.0, 6.0)), (ops.hard_sigmoid, (-3.0, 3.0)), (ops.hard_silu, (-3.0, 3.0)),
          (ops.crelu, (0.0,)), (lambda a: ops.crelu(a, axis=0), (0.0,)),
          (lambda a: ops.elu(a, alpha=0.5), (0.0,))]


@pytest.mark.parametrize("fn", SMOOTH)
def test_smooth_activation_gradients(xp, fn):
    grad_check(fn, [xp.asarray(rng.standard_normal((3, 5)))])


@pytest.mark.parametrize("fn,kinks", KINKED)
def test_piecewise_activation_gradients(xp, fn, kinks):
    grad_check(fn, [away_from_kinks(xp, (3, 5), kinks)])


def test_prelu_gradient_reaches_alpha(xp):
    x = away_from_kinks(xp, (4, 3, 2))
    grad_check(ops.prelu, [x, xp.asarray(rng.random((1, 2)))])


def erf(v):
    return np.vectorize(math.erf)(v)


SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805
REFERENCES = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.minimum(np.maximum(x, 0), 6),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: SELU_S * np.where(x > 0, x, SELU_A * (np.exp(x) - 1)),
    "softplus": lambda x: np.log(1 + np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "swish": lambda x: x / (1 + np.exp(-x)),
    "gelu": lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "mish": lambda x: x * np.tanh(np.log(1 + np.exp(x))),
    "exponential": np.exp,
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
    "crelu": lambda x: np.concatenate([np.maximum(x, 0), np.maximum(-x, 0)], axis=-1),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "linear": lambda x: x,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation_by_name_matches_formula(name):
    x = (rng.standard_normal((4, 6)) * 4).astype(np.float32)
    got = activations.get(name)(Tensor(x))
    np.testing.assert_allclose(to_device(got.data, "cpu"), REFERENCES[name](x.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)
    assert got.dtype == np.float32
    fn = activations.get(name)
    assert activations.get(activations.serialize(fn)) is fn


def test_relu_arguments_follow_keras_examples():
    x = Tensor(np.array([-10, -5, 0.0, 5, 10], dtype=np.float32))
    np.testing.assert_allclose(activations.relu(x, negative_slope=0.5).numpy(), [-5, -2.5, 0, 5, 10])
    np.testing.assert_allclose(activations.relu(x, max_value=5.0).numpy(), [0, 0, 0, 5, 5])
    np.testing.assert_allclose(activations.relu(x, threshold=5.0).numpy(), [0, 0, 0, 0, 10])


def test_gelu_approximate_and_torch_when_installed():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((5, 7)).astype(np.float32) * 3
    for approximate, mode in ((False, "none"), (True, "tanh")):
        expected = torch.nn.functional.gelu(torch.tensor(x), approximate=mode).numpy()
        np.testing.assert_allclose(ops.gelu(Tensor(x), approximate=approximate).numpy(), expected,
                                   rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ops.selu(Tensor(x)).numpy(), torch.selu(torch.tensor(x)).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_unknown_activation_name_is_rejected():
    with pytest.raises(ValueError, match="Unknown activation 'relu7'"):
        activations.get("relu7")
