"""Which strategy a model trains under, and the one-process strategy every model has by default.

A model takes the strategy whose ``scope()`` is open when it is created or compiled; outside any scope
it takes ``LOCAL``. The training loop consults that object at a few named points (the ``LocalStrategy``
methods below); for ``LOCAL`` each one hands its argument back unchanged.
"""
from __future__ import annotations

import contextlib

_scopes: list = []


class LocalStrategy:
    """One process: rank 0 of a world of 1. Every hook is the identity."""

    rank, size, is_chief = 0, 1, True

    def distribute_batches(self, batches, model=None, training=False):
        """The batches this rank computes on (for fit, the first one also syncs the model)."""
        return batches

    gradient_hook = None  # called with each variable whose gradient backward has just completed

    def reduce_gradients(self, grads, variables):
        """The gradients of the loss over the global batch, from this rank's gradients."""
        return grads

    def results(self, objectives):
        """Loss and metric values over every rank's samples."""
        return objectives.results()

    def training_callbacks(self, callbacks):
        """The callbacks this rank runs during fit."""
        return callbacks

    def gather_outputs(self, outputs, batches):
        """predict: every rank's per-batch outputs, in the order of the samples."""
        return outputs

    @contextlib.contextmanager
    def scope(self):
        _scopes.append(self)
        try:
            yield self
        finally:
            _scopes.pop()


LOCAL = LocalStrategy()


def current(default=LOCAL):
    """The strategy of the innermost open ``scope()``, else ``default``."""
    return _scopes[-1] if _scopes else default


_process_strategy = None


def process_strategy():
    """The DataParallel strategy this process created last (None before any): the world that
    ``BatchNormalization(synchronized=True)`` synchronizes over."""
    return _process_strategy


def set_process_strategy(strategy):
    global _process_strategy
    _process_strategy = strategy
