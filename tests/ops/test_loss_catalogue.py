"""Keras' losses: float64 gradient checks, formulas written here, torch where it has the same loss,
class/string/function forms, reductions and label smoothing."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import losses
from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device


def host(a):
    return to_device(a, "cpu")


rng = np.random.default_rng(41)


def data(xp, positive=False, shape=(4, 5)):
    t, p = rng.standard_normal(shape), rng.standard_normal(shape)
    if positive:
        t, p = np.abs(t) + 0.1, np.abs(p) + 0.1
    return xp.asarray(t), xp.asarray(p)


def probabilities(shape=(4, 5)):
    p = rng.random(shape) + 0.1
    return p / p.sum(-1, keepdims=True)


REFERENCES = {  # name -> (function, per-sample reference, positive inputs)
    "mean_absolute_error": (losses.mean_absolute_error, lambda t, p: np.abs(p - t).mean(-1), False),
    "mean_absolute_percentage_error": (losses.mean_absolute_percentage_error,
                                       lambda t, p: 100 * np.abs((t - p) / np.abs(t)).mean(-1), False),
    "mean_squared_logarithmic_error": (losses.mean_squared_logarithmic_error,
                                       lambda t, p: ((np.log1p(p) - np.log1p(t)) ** 2).mean(-1), True),
    "huber": (losses.huber, lambda t, p: np.where(np.abs(p - t) <= 1, 0.5 * (p - t) ** 2,
                                                  np.abs(p - t) - 0.5).mean(-1), False),
    "log_cosh": (losses.log_cosh, lambda t, p: np.log(np.cosh(p - t)).mean(-1), False),
    "poisson": (losses.poisson, lambda t, p: (p - t * np.log(p + 1e-7)).mean(-1), True),
    "hinge": (losses.hinge, lambda t, p: np.maximum(1 - t * p, 0).mean(-1), False),
    "squared_hinge": (losses.squared_hinge, lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1), False),
    "cosine_similarity": (losses.cosine_similarity, lambda t, p: -(t * p).sum(-1) / np.linalg.norm(t, axis=-1)
                          / np.linalg.norm(p, axis=-1), False),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_regression_and_hinge_losses(xp, name):
    fn, reference, positive = REFERENCES[name]
    t, p = data(xp, positive)
    p[abs(abs(p - t) - 1) < 1e-3] += 0.01  # keep the Huber kink away
    grad_check(lambda a: fn(t, a), [p])
    np.testing.assert_allclose(host(fn(t, Tensor(p)).data), reference(host(t), host(p)), rtol=1e-6)


def test_probability_losses(xp):
    t, p = xp.asarray(probabilities()), xp.asarray(probabilities())
    grad_check(lambda a: losses.kl_divergence(t, a), [p])
    np.testing.assert_allclose(host(losses.kl_divergence(t, Tensor(p)).data), host((t * xp.log(t / p)).sum(-1)),
                               rtol=1e-6)
    onehot = xp.eye(5)[xp.asarray([0, 3, 1, 4])]
    logits = xp.asarray(rng.standard_normal((4, 5)))
    grad_check(lambda a: losses.categorical_hinge(onehot, a), [logits])
    expected = np.maximum((logits * (1 - onehot)).max(-1) - (logits * onehot).sum(-1) + 1, 0)
    np.testing.assert_allclose(host(losses.categorical_hinge(onehot, Tensor(logits)).data), host(expected))
    grad_check(lambda a: losses.categorical_crossentropy(onehot, a, from_logits=True, label_smoothing=0.1),
               [logits])
    grad_check(lambda a: losses.binary_crossentropy(onehot, a, from_logits=True, label_smoothing=0.2), [logits])


def test_hinge_turns_01_labels_into_pm1():
    t, p = np.array([[0.0, 1.0, 1.0]]), Tensor(np.array([[0.3, -0.2, 2.0]]))
    np.testing.assert_allclose(losses.hinge(t, p).data, [np.mean([1.3, 1.2, 0])])


def test_losses_match_torch_when_installed():
    torch = pytest.importorskip("torch")
    t, p = rng.standard_normal((6, 4)), rng.standard_normal((6, 4)) * 2
    tt, pt = torch.tensor(t), torch.tensor(p)
    np.testing.assert_allclose(dc.losses.Huber(delta=0.7)(t, Tensor(p)).data,
                               torch.nn.functional.huber_loss(pt, tt, delta=0.7).numpy(), rtol=1e-6)
    rate = np.exp(p)
    np.testing.assert_allclose(dc.losses.Poisson()(np.abs(t), Tensor(rate)).data,
                               torch.nn.functional.poisson_nll_loss(torch.tensor(rate), torch.tensor(np.abs(t)),
                                                                    log_input=False, eps=1e-7).numpy(), rtol=1e-5)
    q, r = probabilities((6, 4)), probabilities((6, 4))
    np.testing.assert_allclose(dc.losses.KLDivergence()(q, Tensor(r)).data,
                               torch.nn.functional.kl_div(torch.tensor(np.log(r)), torch.tensor(q),
                                                          reduction="batchmean").numpy(), rtol=1e-6)
    labels = rng.integers(0, 4, 6)
    onehot = np.eye(4)[labels]
    np.testing.assert_allclose(dc.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)(
        onehot, Tensor(p)).data, torch.nn.functional.cross_entropy(pt, torch.tensor(labels),
                                                                   label_smoothing=0.2).numpy(), rtol=1e-6)


def test_reductions_and_sample_weights():
    t, p = rng.standard_normal((4, 3)), Tensor(rng.standard_normal((4, 3)))
    per_sample = np.abs(p.data - t).mean(-1)
    weights = np.array([1.0, 0.0, 2.0, 0.5])
    np.testing.assert_allclose(dc.losses.MeanAbsoluteError()(t, p).data, per_sample.mean())
    np.testing.assert_allclose(dc.losses.MeanAbsoluteError(reduction="sum")(t, p, weights).data,
                               (per_sample * weights).sum())
    np.testing.assert_allclose(dc.losses.MeanAbsoluteError(reduction=None)(t, p).data, per_sample)
    with pytest.raises(ValueError, match="MeanAbsoluteError: reduction must be one of"):
        dc.losses.MeanAbsoluteError(reduction="mean_of_squares")


def test_label_smoothing_follows_keras():
    t, p = np.array([[0.0, 1.0]]), Tensor(np.array([[0.2, 0.8]]))
    smoothed = np.array([[0.05, 0.95]])  # 0.1 towards 0.5 (binary) and towards 1/2 (two classes)
    expected = -(smoothed * np.log([[0.2, 0.8]]) + (1 - smoothed) * np.log([[0.8, 0.2]])).mean()
    np.testing.assert_allclose(dc.losses.BinaryCrossentropy(label_smoothing=0.1)(t, p).data, expected, rtol=1e-6)
    expected = -(smoothed * np.log([[0.2, 0.8]])).sum()
    np.testing.assert_allclose(dc.losses.CategoricalCrossentropy(label_smoothing=0.1)(t, p).data, expected,
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["mae", "mape", "msle", "huber", "log_cosh", "kld", "poisson", "hinge",
                                  "squared_hinge", "categorical_hinge", "cosine_similarity"])
def test_every_loss_by_name_has_a_config_round_trip_and_trains(name):
    loss = dc.losses.get(name)
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()
    model = dc.Sequential([dc.Input((3,)), dc.layers.Dense(2, activation="softplus")])
    model.compile("sgd", name)
    model.fit(rng.random((8, 3)), rng.random((8, 2)) + 0.1, epochs=1, verbose=0)
