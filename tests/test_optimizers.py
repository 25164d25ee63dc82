"""Optimizer trajectories against their published update rules, written out here (and torch.optim)."""
import numpy as np
import pytest
from safetensors.numpy import load as safetensors_load
from safetensors.numpy import save as safetensors_save

import deepcore as dc
from deepcore import optimizers

rng = np.random.default_rng(5)
W0 = rng.standard_normal(4).astype(np.float32)
GRADS = [rng.standard_normal(4).astype(np.float32) for _ in range(6)]


def run(optimizer, grads=GRADS, w0=W0):
    w = dc.Variable(w0.copy(), name="w")
    trajectory = []
    for g in grads:
        optimizer.apply([g.copy()], [w])
        trajectory.append(w.numpy())
    return np.array(trajectory)


# --- the published rules, in float64, one function per optimizer: (w, g, t, state, **hyper) -> w -----------
def sgd_rule(w, g, t, s, lr, momentum=0.0, nesterov=False):
    s["m"] = momentum * s.get("m", 0) - lr * g
    return w + (momentum * s["m"] - lr * g if nesterov else s["m"])


def adam_rule(w, g, t, s, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    s["vmax"] = np.maximum(s.get("vmax", 0), s["v"]) if amsgrad else s["v"]
    return w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * s["m"] / (np.sqrt(s["vmax"]) + eps)


def adamw_rule(w, g, t, s, lr, wd=0.004, **kwargs):
    return adam_rule(w - lr * wd * w, g, t, s, lr, **kwargs)


def adamax_rule(w, g, t, s, lr, b1=0.9, b2=0.999, eps=1e-7):
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g))
    return w - lr / (1 - b1 ** t) * s["m"] / (s["u"] + eps)


def nadam_rule(w, g, t, s, lr, b1=0.9, b2=0.999, eps=1e-7):
    def mu(step):
        return b1 * (1 - 0.5 * 0.96 ** step)
    s["prod"] = s.get("prod", 1.0) * mu(t)
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    m_hat = mu(t + 1) * s["m"] / (1 - s["prod"] * mu(t + 1)) + (1 - mu(t)) * g / (1 - s["prod"])
    return w - lr * m_hat / (np.sqrt(s["v"] / (1 - b2 ** t)) + eps)


def rmsprop_rule(w, g, t, s, lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
    s["a"] = rho * s.get("a", 0) + (1 - rho) * g if centered else 0
    step = lr * g / np.sqrt(s["v"] - s["a"] ** 2 + eps)
    if momentum:
        s["s"] = momentum * s.get("s", 0) + step
        step = s["s"]
    return w - step


def adagrad_rule(w, g, t, s, lr, initial=0.1, eps=1e-7):
    s["a"] = s.get("a", initial) + g * g
    return w - lr * g / np.sqrt(s["a"] + eps)


def adadelta_rule(w, g, t, s, lr, rho=0.95, eps=1e-7):
    s["eg"] = rho * s.get("eg", 0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("ed", 0) + eps) / np.sqrt(s["eg"] + eps) * g
    s["ed"] = rho * s.get("ed", 0) + (1 - rho) * delta * delta
    return w - lr * delta


def expected(rule, grads=GRADS, w0=W0, **hyper):
    w, state, out = w0.astype(np.float64), {}, []
    for t, g in enumerate(grads, start=1):
        w = rule(w, g.astype(np.float64), t, state, **hyper)
        out.append(w)
    return np.array(out)


CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), sgd_rule, dict(lr=0.1)),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, 0.9), sgd_rule, dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.1, 0.9, True), sgd_rule, dict(lr=0.1, momentum=0.9, nesterov=True)),
    "adam": (lambda: optimizers.Adam(0.01), adam_rule, dict(lr=0.01)),
    "adam_amsgrad": (lambda: optimizers.Adam(0.01, amsgrad=True), adam_rule, dict(lr=0.01, amsgrad=True)),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1), adamw_rule, dict(lr=0.01, wd=0.1)),
    "adamax": (lambda: optimizers.Adamax(0.01), adamax_rule, dict(lr=0.01)),
    "nadam": (lambda: optimizers.Nadam(0.01), nadam_rule, dict(lr=0.01)),
    "rmsprop": (lambda: optimizers.RMSprop(0.01), rmsprop_rule, dict(lr=0.01)),
    "rmsprop_momentum_centered": (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True), rmsprop_rule,
                                  dict(lr=0.01, momentum=0.5, centered=True)),
    "adagrad": (lambda: optimizers.Adagrad(0.1), adagrad_rule, dict(lr=0.1)),
    "adadelta": (lambda: optimizers.Adadelta(1.0), adadelta_rule, dict(lr=1.0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_trajectory_follows_the_published_rule(case):
    make, rule, hyper = CASES[case]
    np.testing.assert_allclose(run(make()), expected(rule, **hyper), rtol=2e-5, atol=1e-6)


def test_keras_defaults():
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    assert (optimizers.Adadelta().rho, optimizers.Adadelta().learning_rate) == (0.95, 0.001)
    assert optimizers.SGD().learning_rate == 0.01 and optimizers.SGD().name == "SGD"
    assert optimizers.Adam().epsilon == 1e-7 and optimizers.RMSprop().rho == 0.9


# --- torch.optim, with its differences neutralized: epsilon placement (tiny eps on both sides), Adagrad's
# initial accumulator (Keras 0.1, torch 0), Nadam's momentum schedule (Keras 0.96**t = torch momentum_decay=1)
TORCH_CASES = {
    "sgd_momentum": (lambda: optimizers.SGD(0.1, 0.9), lambda t, p: t.optim.SGD(p, 0.1, momentum=0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.1, 0.9, nesterov=True),
                     lambda t, p: t.optim.SGD(p, 0.1, momentum=0.9, nesterov=True)),
    "adam": (lambda: optimizers.Adam(0.01, epsilon=1e-12), lambda t, p: t.optim.Adam(p, 0.01, eps=1e-12)),
    "adam_amsgrad": (lambda: optimizers.Adam(0.01, epsilon=1e-12, amsgrad=True),
                     lambda t, p: t.optim.Adam(p, 0.01, eps=1e-12, amsgrad=True)),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=1e-12),
              lambda t, p: t.optim.AdamW(p, 0.01, eps=1e-12, weight_decay=0.1)),
    "adamax": (lambda: optimizers.Adamax(0.01, epsilon=1e-12), lambda t, p: t.optim.Adamax(p, 0.01, eps=1e-12)),
    "nadam": (lambda: optimizers.Nadam(0.01, epsilon=1e-12),
              lambda t, p: t.optim.NAdam(p, 0.01, eps=1e-12, momentum_decay=1.0)),
    "rmsprop": (lambda: optimizers.RMSprop(0.01, epsilon=1e-12),
                lambda t, p: t.optim.RMSprop(p, 0.01, alpha=0.9, eps=1e-12)),
    "rmsprop_momentum_centered": (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True, epsilon=1e-12),
                                  lambda t, p: t.optim.RMSprop(p, 0.01, alpha=0.9, eps=1e-12, momentum=0.5,
                                                               centered=True)),
    "adagrad": (lambda: optimizers.Adagrad(0.1, epsilon=1e-12),
                lambda t, p: t.optim.Adagrad(p, 0.1, initial_accumulator_value=0.1, eps=1e-12)),
    "adadelta": (lambda: optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6),
                 lambda t, p: t.optim.Adadelta(p, 1.0, rho=0.9, eps=1e-6)),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_matches_torch_optim(case):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH_CASES[case]
    param = torch.nn.Parameter(torch.tensor(W0.copy(), dtype=torch.float64))
    optimizer = theirs(torch, [param])
    reference = []
    for g in GRADS:
        param.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        reference.append(param.detach().numpy().copy())
    np.testing.assert_allclose(run(ours()), reference, rtol=2e-5, atol=1e-6)


def test_weight_decay_is_applied_before_the_update_as_keras():
    lr, wd = 0.1, 0.5
    w = W0.astype(np.float64)
    for g in GRADS[:3]:
        w = (w - lr * wd * w) - lr * g
    np.testing.assert_allclose(run(optimizers.SGD(lr, weight_decay=wd), GRADS[:3])[-1], w, rtol=1e-5)


def test_exclude_from_weight_decay():
    kernel, bias = dc.Variable(np.ones(2, np.float32), name="kernel"), dc.Variable(np.ones(2, np.float32), "bias")
    optimizer = optimizers.SGD(1.0, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.apply([np.zeros(2, np.float32)] * 2, [kernel, bias])
    np.testing.assert_allclose(kernel.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(bias.numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        optimizer.exclude_from_weight_decay(var_names=["kernel"])


def test_clipping_as_keras():
    g = np.array([3.0, 4.0], np.float32)
    np.testing.assert_allclose(run(optimizers.SGD(1.0, clipnorm=1.0), [g], np.zeros(2, np.float32))[0],
                               [-0.6, -0.8], rtol=1e-6)
    np.testing.assert_allclose(run(optimizers.SGD(1.0, clipnorm=10.0), [g], np.zeros(2, np.float32))[0],
                               [-3.0, -4.0], rtol=1e-6)
    np.testing.assert_allclose(run(optimizers.SGD(1.0, clipvalue=3.5), [g], np.zeros(2, np.float32))[0],
                               [-3.0, -3.5], rtol=1e-6)
    a, b = dc.Variable(np.zeros(1, np.float32)), dc.Variable(np.zeros(1, np.float32))
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.array([3.0], np.float32), np.array([4.0], np.float32)],
                                                   [a, b])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [-0.6, -0.8], rtol=1e-6)
    with pytest.raises(ValueError, match="at most one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_none_gradients_are_skipped_and_slots_keep_their_variable():
    a, b = dc.Variable(np.ones(2, np.float32), "a"), dc.Variable(np.ones(3, np.float32), "b")
    optimizer = optimizers.Adam(0.1)
    optimizer.apply([None, np.ones(3, np.float32)], [a, b])
    np.testing.assert_array_equal(a.numpy(), [1, 1])
    assert sorted(optimizer.get_state()) == ["1/momentum", "1/velocity", "iterations", "learning_rate"]


# --- learning rates -----------------------------------------------------------------------------------
def test_schedule_is_called_with_the_step_before_the_update():
    schedule = dc.optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    w = run(optimizers.SGD(schedule), [np.ones(1, np.float32)] * 3, np.zeros(1, np.float32))
    np.testing.assert_allclose(w[:, 0], [-1.0, -1.5, -1.75])


def test_callable_learning_rates():
    w = run(optimizers.SGD(lambda step: 1.0 / (step + 1)), [np.ones(1, np.float32)] * 3, np.zeros(1, np.float32))
    np.testing.assert_allclose(w[-1], [-(1 + 1 / 2 + 1 / 3)], rtol=1e-6)
    w = run(optimizers.SGD(lambda: 0.25), [np.ones(1, np.float32)] * 2, np.zeros(1, np.float32))  # Keras: no args
    np.testing.assert_allclose(w[-1], [-0.5])


def test_learning_rate_setter():
    optimizer = optimizers.Adam(0.1)
    optimizer.learning_rate = 0.05
    assert optimizer.learning_rate == 0.05
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        optimizer.learning_rate = -1
    scheduled = optimizers.Adam(dc.optimizers.schedules.CosineDecay(0.1, 10))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        scheduled.learning_rate = 0.01


# --- state and config ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(CASES))
def test_state_round_trip_continues_identically(case):
    make = CASES[case][0]
    weights = [dc.Variable(W0.copy(), "w"), dc.Variable(W0[:3].copy() * 2, "b")]
    optimizer = make()
    for g in GRADS[:3]:
        optimizer.apply([g.copy(), g[:3].copy()], weights)
    # through safetensors, as saving does (0-d arrays come back with shape (1,))
    state = safetensors_load(safetensors_save({k: np.ascontiguousarray(v) for k, v in optimizer.get_state().items()}))
    copies = [dc.Variable(w.numpy(), w.name) for w in weights]
    restored = make()
    restored.set_state(state, copies)
    assert restored.iterations == 3
    for g in GRADS[3:]:
        optimizer.apply([g.copy(), g[:3].copy()], weights)
        restored.apply([g.copy(), g[:3].copy()], copies)
    for original, copy in zip(weights, copies):
        np.testing.assert_array_equal(original.numpy(), copy.numpy())


def test_state_keeps_a_learning_rate_changed_during_training():
    optimizer = optimizers.SGD(0.1)
    optimizer.learning_rate = 0.02
    restored = optimizers.SGD(0.1)
    restored.set_state(optimizer.get_state(), [])
    assert restored.learning_rate == pytest.approx(0.02)
    scheduled = optimizers.SGD(dc.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    scheduled.set_state(optimizer.get_state(), [])  # a schedule keeps computing its own rate
    assert scheduled.learning_rate == pytest.approx(0.1)


def test_set_state_rejects_mismatches():
    w = dc.Variable(np.zeros(4, np.float32), "w")
    optimizer = optimizers.Adam()
    optimizer.apply([np.ones(4, np.float32)], [w])
    state = optimizer.get_state()
    with pytest.raises(ValueError, match="has shape"):
        optimizers.Adam().set_state(state, [dc.Variable(np.zeros(5, np.float32), "w")])
    with pytest.raises(ValueError, match="refers to variable 0"):
        optimizers.Adam().set_state(state, [])
    with pytest.raises(ValueError, match="unexpected entry '0/velocity'"):
        optimizers.SGD(momentum=0.9).set_state(state, [w])
    with pytest.raises(ValueError, match="no 'iterations'"):
        optimizers.Adam().set_state({}, [w])


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_round_trip(case):
    optimizer = CASES[case][0]()
    again = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(again) is type(optimizer) and again.get_config() == optimizer.get_config()


def test_config_with_a_schedule_and_get():
    schedule = dc.optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
    optimizer = optimizers.SGD(schedule, momentum=0.9, clipnorm=1.0)
    again = optimizers.get(optimizers.serialize(optimizer))
    assert isinstance(again._learning_rate, dc.optimizers.schedules.PiecewiseConstantDecay)
    assert again.get_config() == optimizer.get_config()
    assert isinstance(optimizers.get("AdamW"), optimizers.AdamW) and optimizers.get(optimizer) is optimizer
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'"):
        optimizers.get("adamm")
    with pytest.raises(TypeError, match="expected an optimizer name"):
        optimizers.get(3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta_1 must be in"):
        optimizers.Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="AdamW: weight_decay must be a float"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="use_ema=True is not supported"):
        optimizers.Adam(use_ema=True)
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr'"):
        optimizers.Adam(lr=0.1)
    with pytest.raises(ValueError, match="2 gradients for 1 variables"):
        optimizers.SGD().apply([np.zeros(1), np.zeros(1)], [dc.Variable(np.zeros(1, np.float32))])
    with pytest.raises(ValueError, match="gradient of shape"):
        optimizers.SGD().apply([np.zeros(2, np.float32)], [dc.Variable(np.zeros(1, np.float32), "w")])
