"""Callbacks that watch a logged quantity (EarlyStopping, ReduceLROnPlateau) or set the learning rate."""
from __future__ import annotations

import warnings

import numpy as np

from .callback import Callback


def _direction(model, monitor):
    """'up' or 'down' for a logged name in mode 'auto': losses go down; a metric says so itself."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name.endswith("_loss"):
        return "down"
    compiled = list(getattr(model, "metrics", None) or []) + list(getattr(model, "compiled_metrics", None) or [])
    for metric in compiled:
        if getattr(metric, "name", None) == name and getattr(metric, "_direction", None):
            return metric._direction
    from .. import metrics
    try:
        return metrics.get(name)._direction
    except (ValueError, TypeError):
        return None


class MonitorCallback(Callback):
    """Base for callbacks that track the best value of ``monitor`` (Keras 3's MonitorCallback).

    ``mode`` "min"/"max" says which way is better; "auto" asks the model's metric (``_direction``), with
    losses minimized. A value improves on ``best`` when it beats it by more than ``min_delta``.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.mode, self.baseline, self.min_delta = monitor, mode, baseline, abs(min_delta)
        self.monitor_op, self.best = None, baseline

    def _set_monitor_op(self):
        direction = {"min": "down", "max": "up"}.get(self.mode) or _direction(self.model, self.monitor)
        if direction is None:
            raise ValueError(f"{type(self).__name__} callback received monitor={self.monitor}, but cannot tell "
                             f"whether it should be maximized or minimized. Pass mode='max' or mode='min'.")
        self.monitor_op = np.greater if direction == "up" else np.less
        if self.best is None:
            self.best = -np.inf if direction == "up" else np.inf

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        delta = self.min_delta if self.monitor_op is np.greater else -self.min_delta
        return bool(self.monitor_op(value - delta, reference))

    def _monitored(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__}: monitor {self.monitor!r} is not in the logs; available: "
                          f"{', '.join(logs or {})}", stacklevel=3)
        return value


class EarlyStopping(MonitorCallback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs (Keras 3).

    ``baseline``: the wait only restarts on values that also beat it. ``restore_best_weights``: at the
    end of training, put back the weights of the best epoch. ``start_from_epoch``: epochs to ignore first.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, None, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0
        self.monitor_op, self.best = None, None

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self._monitored(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` (not below ``min_lr``) after ``patience`` epochs without an
    improvement of ``min_delta``; then wait ``cooldown`` epochs before counting again (Keras)."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, None, min_delta)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected argument(s) {sorted(kwargs)}")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got factor={factor}")
        self.factor, self.patience, self.verbose, self.cooldown, self.min_lr = factor, patience, verbose, cooldown, \
            min_lr
        self.wait, self.cooldown_counter = 0, 0

    def on_train_begin(self, logs=None):
        self.wait, self.cooldown_counter = 0, 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = {} if logs is None else logs
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = self._monitored(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(self.model.optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """At each epoch's start, set the learning rate to ``schedule(epoch, lr)`` (or ``schedule(epoch)``)."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        try:
            learning_rate = self.schedule(epoch, float(self.model.optimizer.learning_rate))
        except TypeError:  # the one-argument form Keras still accepts
            learning_rate = self.schedule(epoch)
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating)):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float, got {learning_rate!r}")
        self.model.optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
