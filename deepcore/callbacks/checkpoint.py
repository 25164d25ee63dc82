"""Callbacks that write training state to disk: ModelCheckpoint and BackupAndRestore."""
from __future__ import annotations

import json
import os
import warnings

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

from ..backend import random
from ..files import atomic_write
from .callback import Callback
from .monitor import MonitorCallback


class _BatchCounter:
    """Counts training batches from on_train_batch_end's batch index, which deepcore's fit reports on
    logging steps only (so a save with ``save_freq=N`` happens at the first logging step after N batches)."""

    def __init__(self, every):
        self.every, self.since_save, self.last_batch = every, 0, -1

    def due(self, batch):
        self.since_save += batch + 1 if batch <= self.last_batch else batch - self.last_batch
        self.last_batch = batch
        if self.since_save >= self.every:
            self.since_save = 0
            return True
        return False


def _check_save_freq(who, save_freq):
    if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                     and save_freq > 0):
        raise ValueError(f"{who}: save_freq must be 'epoch' or a positive int, got {save_freq!r}")
    return None if save_freq == "epoch" else _BatchCounter(save_freq)


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save``) or its weights (``save_weights_only``) after each epoch, or every
    ``save_freq`` batches; with ``save_best_only`` only when ``monitor`` improves (on
    ``initial_value_threshold`` too, when given).

    ``filepath`` may hold ``str.format`` fields: ``{epoch}`` (1-based), ``{batch}`` and any log, e.g.
    ``"weights-{epoch:02d}-{val_loss:.2f}.weights.safetensors"``. Writes are atomic (the model's save).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, initial_value_threshold)
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self._counter = _check_save_freq("ModelCheckpoint", save_freq)
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._counter is None:
            self._save(epoch, None, logs)

    def _path(self, epoch, batch, logs):
        fields = {**logs, "epoch": epoch + 1, **({} if batch is None else {"batch": batch + 1})}
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise KeyError(f"ModelCheckpoint: cannot fill the filepath {self.filepath!r} from {sorted(fields)} "
                           f"({type(error).__name__}: {error})") from None

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            if self.monitor_op is None:
                self._set_monitor_op()
            current = self._monitored(logs)
            if current is None:
                return
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        (self.model.save_weights if self.save_weights_only else self.model.save)(path)


class BackupAndRestore(Callback):
    """Resume an interrupted ``fit`` where it stopped (Keras 3's BackupAndRestore).

    At each epoch's end (or every ``save_freq`` batches) it writes ``backup_dir/backup.safetensors``
    atomically: the model's weights, the optimizer state (``optimizer.get_state()``), the random
    generator's state (so shuffling continues as in an uninterrupted run) and the last finished epoch.
    At ``on_train_begin`` it loads that file when present and sets ``model._initial_epoch`` to the epoch
    after the saved one, which ``fit`` starts from (a mid-epoch backup reruns that epoch, as Keras). The
    backup is deleted when training ends normally, unless ``delete_checkpoint=False``; only this file
    is removed (and the folder, if it is then empty).
    """

    FILENAME = "backup.safetensors"
    FORMAT = "deepcore-backup-1"

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is empty")
        self.backup_dir, self.save_freq, self.delete_checkpoint = os.fspath(backup_dir), save_freq, delete_checkpoint
        self._counter = _check_save_freq("BackupAndRestore", save_freq)
        self._epoch = 0

    @property
    def path(self):
        return os.path.join(self.backup_dir, self.FILENAME)

    def on_train_begin(self, logs=None):
        if os.path.exists(self.path):
            self._restore()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._save(self._epoch - 1)  # the running epoch is not finished: resume reruns it

    def on_epoch_end(self, epoch, logs=None):
        if self._counter is None:
            self._save(epoch)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
            if not os.listdir(self.backup_dir):
                os.rmdir(self.backup_dir)

    def _save(self, finished_epoch):
        tensors = {f"weight/{i:04d}": np.require(w, requirements="C") for i, w in enumerate(self.model.get_weights())}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            tensors.update({f"optimizer/{k}": np.require(v, requirements="C") for k, v in optimizer.get_state().items()})
        metadata = {"format": self.FORMAT, "epoch": str(finished_epoch),
                    "random_state": json.dumps(random.generator().bit_generator.state)}
        atomic_write(self.path, lambda path: save_file(tensors, path, metadata=metadata))

    def _restore(self):
        where = f"BackupAndRestore: {self.path}"
        try:
            with safe_open(self.path, framework="numpy") as backup:
                metadata = backup.metadata() or {}
                tensors = {key: backup.get_tensor(key) for key in backup.keys()}
        except Exception as error:  # safetensors raises its own types on truncated or tampered files
            raise ValueError(f"{where} is damaged ({type(error).__name__}: {error}); delete it to start over") \
                from None
        if metadata.get("format") != self.FORMAT or not metadata.get("epoch", "").lstrip("-").isdigit():
            raise ValueError(f"{where} is not a deepcore backup (metadata {metadata}); delete it to start over")
        weights = [tensors[k] for k in sorted((k for k in tensors if k.startswith("weight/")),
                                              key=lambda k: int(k.removeprefix("weight/")))]
        if len(weights) != len(self.model.weights):
            raise ValueError(f"{where} holds {len(weights)} weights but the model has {len(self.model.weights)}: "
                             f"was it written by another model?")
        self.model.set_weights(weights)
        state = {k.removeprefix("optimizer/"): v for k, v in tensors.items() if k.startswith("optimizer/")}
        if state and getattr(self.model, "optimizer", None) is not None:
            self.model.optimizer.set_state(state, self.model.trainable_weights)
        generator = random.generator().bit_generator
        try:
            generator.state = json.loads(metadata["random_state"])
        except (KeyError, ValueError, TypeError):
            warnings.warn(f"{where}: the random state could not be restored; shuffling will differ from an "
                          f"uninterrupted run", stacklevel=3)
        self.model._initial_epoch = int(metadata["epoch"]) + 1
