"""Rank 0 decides, every rank follows.

Callbacks run on rank 0 only (they log, save and checkpoint). Some of them also steer training: stop it
(EarlyStopping, TerminateOnNaN), change the learning rate (ReduceLROnPlateau, LearningRateScheduler) or
resume it from a backup (BackupAndRestore: weights, optimizer state, start epoch). ``FollowChief`` runs
after them on every rank and copies rank 0's decisions to the others, so no rank runs a step the others
do not. A callback that changes other state on rank 0 must broadcast it itself.
"""
from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np

from ..callbacks import Callback


class FollowChief(Callback):
    def __init__(self, strategy):
        super().__init__()
        self.strategy = strategy

    def on_train_begin(self, logs=None):
        communicator = self.strategy.host
        self.model._initial_epoch = communicator.broadcast_object(self.model._initial_epoch)
        if self.model.built:
            self.strategy.synchronize(self.model)
        else:  # built by the first batch: synchronized there
            self.strategy.forget(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._follow()

    def on_train_batch_end(self, batch, logs=None):
        self._follow()

    def on_epoch_end(self, epoch, logs=None):
        self._follow()

    def _follow(self):
        """stop_training and the learning rate (unless a schedule sets it) from rank 0."""
        optimizer = self.model.optimizer
        fixed_rate = not callable(optimizer._learning_rate)
        decisions = np.array([float(bool(self.model.stop_training)),
                              optimizer.learning_rate if fixed_rate else 0.0])
        self.strategy.host.broadcast(decisions)
        self.model.stop_training = bool(decisions[0])
        if fixed_rate and optimizer.learning_rate != decisions[1]:
            optimizer.learning_rate = float(decisions[1])


def abort_on_uncaught_exception(communicator):
    """An uncaught exception on one rank prints its traceback, then ends every rank (MPI_Abort)
    instead of leaving the others blocked in their next collective."""
    def hook(kind, value, tb):
        report = "".join(traceback.format_exception(kind, value, tb))
        report += f"deepcore.distribute: rank {communicator.rank} of {communicator.size} failed; stopping every rank\n"
        os.write(2, report.encode(errors="replace"))
        time.sleep(0.5)  # let mpiexec forward the report before the abort tears the job down
        communicator.abort(1)

    sys.excepthook = hook
