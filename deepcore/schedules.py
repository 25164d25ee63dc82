"""Learning-rate schedules (Keras' ``keras.optimizers.schedules``), also reachable as ``dc.optimizers.schedules``.

A schedule maps the optimizer's step count (0 for the first update) to a
learning rate: ``schedule(step) -> float``. Pass one as ``learning_rate`` to any
optimizer. The formulas are Keras 3's, computed in float64 on the host.
"""
from __future__ import annotations

import math


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _positive(who, name, value):
    if not value > 0:
        raise ValueError(f"{who}: {name} must be > 0, got {value!r}")
    return value


class _StepDecay(LearningRateSchedule):
    """Shared by the decays of step / decay_steps (floored when staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate, self.decay_rate, self.staircase = initial_learning_rate, decay_rate, staircase
        self.decay_steps = _positive(type(self).__name__, "decay_steps", decay_steps)
        self.name = name or type(self).__name__

    def _progress(self, step):
        progress = step / self.decay_steps
        return math.floor(progress) if self.staircase else progress

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StepDecay):
    """initial_learning_rate * decay_rate ** (step / decay_steps), the exponent floored when staircase."""

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i], then values[-1]."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: expected len(values) == len(boundaries) + 1, got "
                             f"{len(values)} values and {len(boundaries)} boundaries")
        if list(boundaries) != sorted(boundaries):
            raise ValueError(f"PiecewiseConstantDecay: boundaries must be increasing, got {list(boundaries)}")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(_StepDecay):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps), the ratio floored when staircase."""

    def __call__(self, step):
        return self.initial_learning_rate / (1 + self.decay_rate * self._progress(step))


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ** power + end; with cycle, decay_steps grows to the next
    multiple of itself above step instead of the step being held at decay_steps."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        self.initial_learning_rate, self.end_learning_rate, self.power, self.cycle, self.name = \
            initial_learning_rate, end_learning_rate, power, cycle, name
        self.decay_steps = _positive("PolynomialDecay", "decay_steps", decay_steps)

    def __call__(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        fraction = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - fraction) ** self.power \
            + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Loshchilov & Hutter 2017 (SGDR) without restarts, with an optional linear warmup (Goyal et al. 2017).

    Without warmup_target: initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))
    + alpha). With it: a line from initial_learning_rate to warmup_target over warmup_steps, then the same
    cosine starting from warmup_target.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate, self.alpha, self.name = initial_learning_rate, alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps
        self.decay_steps = _positive("CosineDecay", "decay_steps", decay_steps)

    def _decay(self, step, decay_from):
        cosine = 0.5 * (1 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) \
                * step / self.warmup_steps
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR (Loshchilov & Hutter 2017): cosine periods of first_decay_steps * t_mul**i, each restart's peak
    scaled by m_mul**i, floored at alpha * initial_learning_rate."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate, self.t_mul, self.m_mul, self.alpha, self.name = \
            initial_learning_rate, t_mul, m_mul, alpha, name
        self.first_decay_steps = _positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)

    def __call__(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:  # periods grow geometrically: find the period that holds `fraction`
            restart = math.floor(math.log(1 - fraction * (1 - self.t_mul)) / math.log(self.t_mul))
            done = (1 - self.t_mul ** restart) / (1 - self.t_mul)
            fraction = (fraction - done) / self.t_mul ** restart
        cosine = 0.5 * self.m_mul ** restart * (1 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay,
                                          PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def serialize(schedule) -> dict:
    """``{"class_name": ..., "config": ...}``, the form Keras stores in an optimizer's config."""
    if type(schedule).__name__ not in _BY_NAME:
        raise ValueError(f"schedules.serialize: expected one of {sorted(_BY_NAME)}, got {type(schedule).__name__}")
    return {"module": "keras.optimizers.schedules", "class_name": type(schedule).__name__,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config) -> LearningRateSchedule:
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _BY_NAME:
        raise ValueError(f"schedules.deserialize: unknown schedule {name!r}; expected one of {sorted(_BY_NAME)}")
    return _BY_NAME[name].from_config(config.get("config", {}))
