"""Callbacks that record or report training: History, ProgbarLogger, CSVLogger, TerminateOnNaN."""
from __future__ import annotations

import csv
import math
import os

import numpy as np

from .callback import Callback


class History(Callback):
    """Records the epoch logs; ``fit`` returns it (``history.history['loss']``, ``history.epoch``)."""

    def __init__(self):
        super().__init__()
        self.epoch, self.history = [], {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Accepted for Keras compatibility and does nothing: ``fit`` draws its own tqdm bar per epoch
    (``verbose=1``) or prints one line per epoch (``verbose=2``)."""

    def __init__(self, count_mode=None):
        super().__init__()


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite (checked on the logging steps)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """One CSV row per epoch: ``epoch`` (0-based) then the logs in sorted key order, as Keras.

    With ``append`` the rows go after an existing file's (no second header). Each row is flushed and
    synced to disk when written, so an interrupted run keeps every finished epoch. As Keras, when the
    first epoch has no ``val_`` keys, ``val_`` columns are added for every key (written as ``NA``) so a
    later validation epoch still fits the header.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys, self.writer, self.csv_file = None, None, None

    def on_train_begin(self, logs=None):
        write_header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0)
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys, self.writer, self._write_header = None, None, write_header

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys += [f"val_{k}" for k in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, delimiter=self.sep)
            if self._write_header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: _cell(logs.get(k, "NA")) for k in self.keys}})
        self.csv_file.flush()
        os.fsync(self.csv_file.fileno())

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _cell(value):
    """A log value as CSV text; arrays (per-class metrics) become "[a, b, c]" as Keras writes them."""
    if isinstance(value, str) or np.ndim(value) == 0:
        return value
    return f"[{', '.join(map(str, np.asarray(value).reshape(-1)))}]"
