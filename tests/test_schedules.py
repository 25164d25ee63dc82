"""Learning-rate schedules against their formulas, written out here."""
import math

import numpy as np
import pytest

import deepcore as dc
from deepcore import schedules

STEPS = [0, 1, 5, 9, 10, 11, 25, 99, 100, 150]


def check(schedule, formula):
    np.testing.assert_allclose([schedule(s) for s in STEPS], [formula(s) for s in STEPS], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay(staircase):
    check(schedules.ExponentialDecay(0.1, 10, 0.5, staircase),
          lambda s: 0.1 * 0.5 ** (s // 10 if staircase else s / 10))


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    check(schedules.InverseTimeDecay(0.1, 10, 0.5, staircase),
          lambda s: 0.1 / (1 + 0.5 * (s // 10 if staircase else s / 10)))


def test_piecewise_constant_decay():
    check(schedules.PiecewiseConstantDecay([10, 100], [1.0, 0.5, 0.1]),
          lambda s: 1.0 if s <= 10 else 0.5 if s <= 100 else 0.1)


def test_polynomial_decay():
    check(schedules.PolynomialDecay(0.1, 50, end_learning_rate=0.01, power=2.0),
          lambda s: (0.1 - 0.01) * (1 - min(s, 50) / 50) ** 2 + 0.01)


def test_polynomial_decay_cycle():
    def formula(s):
        steps = 50 * (1 if s == 0 else math.ceil(s / 50))
        return (0.1 - 0.01) * (1 - s / steps) ** 0.5 + 0.01
    check(schedules.PolynomialDecay(0.1, 50, 0.01, power=0.5, cycle=True), formula)


def test_cosine_decay():
    check(schedules.CosineDecay(0.1, 100, alpha=0.1),
          lambda s: 0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 100) / 100)) + 0.1))


def test_cosine_decay_with_warmup():
    def formula(s):
        s = min(s, 90 + 10)
        if s < 10:
            return 0.0 + (1.0 - 0.0) * s / 10
        return 1.0 * 0.5 * (1 + math.cos(math.pi * (s - 10) / 90))
    check(schedules.CosineDecay(0.0, 90, warmup_target=1.0, warmup_steps=10), formula)


def test_cosine_decay_restarts():
    schedule = schedules.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    # periods: [0, 10) peak 1, [10, 30) peak 0.5, [30, 70) peak 0.25
    for step, start, length, peak in [(0, 0, 10, 1.0), (5, 0, 10, 1.0), (10, 10, 20, 0.5), (25, 10, 20, 0.5),
                                      (30, 30, 40, 0.25), (69, 30, 40, 0.25)]:
        assert schedule(step) == pytest.approx(peak * 0.5 * (1 + math.cos(math.pi * (step - start) / length)))
    constant_period = schedules.CosineDecayRestarts(1.0, 10, t_mul=1.0)
    assert constant_period(13) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.3)))


ALL = [schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True), schedules.PiecewiseConstantDecay([5], [0.1, 0.2]),
       schedules.InverseTimeDecay(0.1, 3, 0.5), schedules.PolynomialDecay(0.1, 7, power=2.0, cycle=True),
       schedules.CosineDecay(0.1, 20, 0.05, warmup_target=0.2, warmup_steps=4),
       schedules.CosineDecayRestarts(0.1, 10)]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_config_round_trip(schedule):
    again = schedules.deserialize(schedules.serialize(schedule))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(s) for s in STEPS] == [schedule(s) for s in STEPS]


def test_exposed_as_optimizers_schedules():
    from deepcore.optimizers.schedules import CosineDecay
    assert dc.optimizers.schedules.ExponentialDecay is schedules.ExponentialDecay and CosineDecay is schedules.CosineDecay


def test_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="len\\(values\\) == len\\(boundaries\\) \\+ 1"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="unknown schedule 'Nope'"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
