"""The optimizer base class: Keras 3's ``apply`` order, slots, state for saving, configs."""
from __future__ import annotations

import inspect
import math
import numbers
import re

import numpy as np

from .. import schedules
from ..autograd.tensor import unwrap
from ..backend.device import device_of, get_array_module, to_device

# Keras 3 base-optimizer arguments deepcore accepts (so Keras configs load) but does not implement.
_NOT_IMPLEMENTED = ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                    "gradient_accumulation_steps")


class Optimizer:
    """Base: gradient clipping, weight decay, learning-rate schedules, per-variable slots.

    ``apply(grads, variables)`` follows Keras 3: drop ``None`` gradients, clip,
    decay the weights (``w -= lr * weight_decay * w``), then call
    ``update(variable, grad, lr)`` per variable, updating ``variable.data`` in
    place. ``lr`` is the learning rate at ``iterations`` before the step; inside
    ``update`` ``self.iterations`` is already the 1-based number of this step.

    ``learning_rate`` may be a float, a ``LearningRateSchedule`` (called with
    the step count) or a callable. Keras calls a plain callable with no
    arguments; deepcore also accepts one taking the step count.

    Slots (momentum, moments) are named by the variable's position in the
    list given to ``build`` (or to the first ``apply``), so ``get_state()`` and
    ``set_state()`` carry them between processes.
    """

    slot_names: tuple = ()  # every slot a subclass may create; set_state rejects others

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        who = type(self).__name__
        for key, value in kwargs.items():
            if key not in _NOT_IMPLEMENTED:
                raise TypeError(f"{who}: unexpected keyword argument {key!r}")
            if key != "ema_momentum" and value not in (None, False):
                raise ValueError(f"{who}: {key}={value!r} is not supported by deepcore")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{who}: set at most one of clipnorm, clipvalue, global_clipnorm")
        for key, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                           ("weight_decay", weight_decay)):
            if value is not None and not (isinstance(value, numbers.Real) and value >= 0):
                raise ValueError(f"{who}: {key} must be a number >= 0 or None, got {value!r}")
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or who.lower()
        self.iterations = 0
        self.built = False
        self._variables, self._index, self._slots = [], {}, {}
        self._excluded_ids, self._excluded_names = set(), None

    # --- learning rate ------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate for the next step (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if not callable(lr):
            return lr
        return float(lr(self.iterations) if self._lr_takes_step else lr())

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(getattr(self, "_learning_rate", None), schedules.LearningRateSchedule):
            raise TypeError(f"{type(self).__name__}: the learning rate comes from a LearningRateSchedule and "
                            f"cannot be set; create the optimizer with a float learning_rate instead")
        if not callable(value):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
                    or not value > 0:
                raise ValueError(f"{type(self).__name__}: learning_rate must be > 0, got {value!r}")
            value = float(value)
        self._learning_rate = value
        self._lr_takes_step = isinstance(value, schedules.LearningRateSchedule) or \
            (callable(value) and _takes_argument(value))

    # --- variables and slots ------------------------------------------------------------
    def build(self, variables):
        """Number ``variables`` (their order names the slots in ``get_state``); drops existing slots."""
        self._variables = list(variables)
        self._index = {id(v): i for i, v in enumerate(self._variables)}
        self._slots = {}
        self.built = True

    def _position(self, variable):
        index = self._index.get(id(variable))
        if index is None:  # not in build's list: number it after the others
            index = self._index[id(variable)] = len(self._variables)
            self._variables.append(variable)
        return index

    def slot(self, variable, name, initial_value=0.0):
        """The state array ``name`` of ``variable`` (created on first use, filled with ``initial_value``)."""
        key = (self._position(variable), name)
        array = self._slots.get(key)
        if array is None:
            array = self._slots[key] = get_array_module(variable.data).full_like(variable.data, initial_value)
        return array

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Keras: no weight decay for these variables, nor for those whose name matches a regex in var_names."""
        if self.built:
            raise ValueError(f"{type(self).__name__}: exclude_from_weight_decay() must be called before the "
                             f"optimizer is built (before the first apply)")
        self._excluded_ids = {id(v) for v in var_list or []}
        self._excluded_names = re.compile("|".join(var_names)) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._excluded_ids:
            return False
        return self._excluded_names is None or self._excluded_names.search(variable.name) is None

    # --- one step -------------------------------------------------------------------------
    def _clip(self, grads):
        """Keras 3 ``_clip_gradients``: per-tensor norm, else global norm, else value; all on the device."""
        if self.clipnorm:
            return [g * (self.clipnorm / get_array_module(g).maximum(_norm(g), self.clipnorm)) for g in grads]
        if self.global_clipnorm:
            xp = get_array_module(grads[0])
            total = xp.sqrt(sum((g * g).sum() for g in grads))
            scale = self.global_clipnorm / xp.maximum(total, self.global_clipnorm)
            return [g * scale.astype(g.dtype) for g in grads]
        if self.clipvalue:
            return [get_array_module(g).clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def apply(self, grads, variables):
        """One update of ``variables`` (Variables) with ``grads`` (arrays or Tensors, same order; None skips)."""
        grads, variables = list(grads), list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for {len(variables)} "
                             f"variables")
        if not self.built:
            self.build(variables)
        pairs = [(unwrap(g), v) for g, v in zip(grads, variables) if g is not None]
        if not pairs:
            return
        for g, v in pairs:
            if tuple(g.shape) != tuple(v.shape):
                raise ValueError(f"{type(self).__name__}.apply: gradient of shape {tuple(g.shape)} for variable "
                                 f"'{v.name}' of shape {tuple(v.shape)}")
        grads = self._clip([g if g.dtype == v.dtype else g.astype(v.dtype) for g, v in pairs])
        lr = self.learning_rate
        if self.weight_decay:
            for _, variable in pairs:
                if self._use_weight_decay(variable):
                    variable.data *= 1 - lr * self.weight_decay
        self.iterations += 1
        self.prepare_step()
        variables = [variable for _, variable in pairs]
        if not self.update_all(variables, grads, lr):
            for grad, variable in zip(grads, variables):
                self.update(variable, grad, lr)
        for _, variable in pairs:  # Keras: constraints project each weight after its update
            if getattr(variable, "constraint", None) is not None:
                variable.assign(variable.constraint(variable))

    def apply_gradients(self, grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))

    def prepare_step(self):
        """Once per step before the per-variable updates (Nadam's momentum product)."""

    def update(self, variable, grad, lr):
        raise NotImplementedError

    def update_all(self, variables, grads, lr):
        """Update every variable at once with a fused kernel (one launch on the GPU); False when this
        optimizer has none, and ``update`` then runs per variable."""
        return False

    # --- state for saving ---------------------------------------------------------------
    def _scalars(self) -> dict:
        """Optimizer-wide numbers to save besides the slots (subclasses add theirs)."""
        scalars = {"iterations": np.array(self.iterations, dtype=np.int64)}
        if not callable(self._learning_rate):
            scalars["learning_rate"] = np.array(self._learning_rate, dtype=np.float64)
        return scalars

    def _set_scalars(self, state):
        self.iterations = int(_scalar(state["iterations"]))
        if "learning_rate" in state and not callable(self._learning_rate):
            self.learning_rate = float(_scalar(state["learning_rate"]))

    def get_state(self) -> dict:
        """Host copies of everything an update depends on: ``iterations``, ``learning_rate`` (when a
        float), optimizer-wide scalars, and every slot as ``"<variable index>/<slot name>"``."""
        state = self._scalars()
        for (index, name), array in self._slots.items():
            state[f"{index}/{name}"] = np.array(to_device(array, "cpu"), copy=True)
        return state

    def set_state(self, state, variables):
        """Restore ``get_state()``'s output for ``variables`` (the list, in the order, that was trained)."""
        who = f"{type(self).__name__}.set_state"
        variables = list(variables)
        scalars = set(self._scalars()) | {"learning_rate"}
        if "iterations" not in state:
            raise ValueError(f"{who}: the state has no 'iterations' entry")
        slots = {}
        for key, value in state.items():
            if key in scalars:
                continue
            index, _, name = key.partition("/")
            if not index.isdigit() or name not in self.slot_names:
                raise ValueError(f"{who}: unexpected entry {key!r}; {type(self).__name__} keeps "
                                 f"{sorted(scalars)} and slots named {list(self.slot_names)}")
            if int(index) >= len(variables):
                raise ValueError(f"{who}: entry {key!r} refers to variable {index}, but {len(variables)} "
                                 f"variables were given")
            variable = variables[int(index)]
            if tuple(np.shape(value)) != tuple(variable.shape):
                raise ValueError(f"{who}: entry {key!r} has shape {tuple(np.shape(value))}, but variable "
                                 f"'{variable.name}' has shape {tuple(variable.shape)}")
            slots[(int(index), name)] = to_device(np.asarray(value, dtype=variable.dtype), device_of(variable.data))
        self.build(variables)
        self._slots = slots
        self._set_scalars(state)

    # --- config ---------------------------------------------------------------------------
    def get_config(self):
        """Constructor arguments. A plain callable learning rate is stored as its current value."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            lr = self.learning_rate
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)


def _scalar(value):
    """The number in a 0-d or 1-element array (savers may turn 0-d arrays into shape (1,))."""
    return np.asarray(value).reshape(()).item()


def _norm(array):
    return get_array_module(array).sqrt((array * array).sum())


def _takes_argument(function) -> bool:
    try:
        return len(inspect.signature(function).parameters) > 0
    except (TypeError, ValueError):
        return True
