"""The training loop: fit / evaluate / predict and their one-batch forms.

One loop over batches: move the batch to the device, forward, loss,
backward, optimizer update, metrics on the device, and one host sync per
logging step (every ``log_every`` batches and at the end of the epoch).
"""
from __future__ import annotations

import math

import numpy as np

from .. import callbacks as callbacks_module
from ..autograd import arithmetic as A
from ..autograd.function import no_grad
from ..autograd.tensor import unwrap
from ..backend import random
from ..backend.device import get_device, to_device
from ..metrics import Mean

LOG_EVERY = 10  # batches between host syncs for the progress bar


def _host(array):
    return to_device(unwrap(array), "cpu")


def _num_samples(who, x, y=None, sample_weight=None):
    arrays = x if isinstance(x, (list, tuple)) else [x]
    counts = {len(a) for a in arrays}
    if len(counts) != 1:
        raise ValueError(f"{who}: all inputs must have the same number of samples, got {sorted(counts)}")
    n = counts.pop()
    for label, other in (("y", y), ("sample_weight", sample_weight)):
        if other is not None and len(other) != n:
            raise ValueError(f"{who}: x has {n} samples but {label} has {len(other)}")
    return n


def _take(data, index):
    if data is None:
        return None
    if isinstance(data, (list, tuple)):
        return [_take(d, index) for d in data]
    return to_device(np.ascontiguousarray(data[index]), get_device())


class TrainingMixin:
    """fit / evaluate / predict for Model (kept apart from the graph code in model.py)."""

    # --- checks before any compute ---------------------------------------------------
    def _require_compiled(self, who):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"Model '{self.name}'.{who}: call compile(optimizer, loss) first")

    def _check_data(self, who, x, y, sample_weight=None):
        x = [np.asarray(_host(a)) for a in x] if isinstance(x, (list, tuple)) else np.asarray(_host(x))
        y = None if y is None else np.asarray(_host(y))
        n = _num_samples(f"Model '{self.name}'.{who}", x, y, sample_weight)
        if n == 0:
            raise ValueError(f"Model '{self.name}'.{who}: got 0 samples")
        expected = getattr(self, "_build_input_shape", None)
        if expected is not None and not isinstance(x, list) and not isinstance(expected, list):
            if len(expected) != x.ndim or any(e is not None and e != g for e, g in zip(expected[1:], x.shape[1:])):
                raise ValueError(f"Model '{self.name}'.{who}: expected input of shape "
                                 f"{('batch',) + tuple(expected[1:])}, got x of shape {x.shape}")
        if y is not None and getattr(self.loss, "name", "") == "sparse_categorical_crossentropy":
            self._check_sparse_labels(who, y)
        if not isinstance(x, list) and x.dtype != np.float32 and np.issubdtype(x.dtype, np.number):
            x = x.astype(np.float32)
        return x, y

    def _check_sparse_labels(self, who, y):
        if not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
            raise ValueError(f"Model '{self.name}'.{who}: sparse_categorical_crossentropy needs integer "
                             f"class labels, got {y.dtype} values such as {y.reshape(-1)[:3]}")
        outputs = getattr(self, "_output_units", lambda: None)()
        low, high = int(y.min()), int(y.max())
        if low < 0 or (outputs is not None and high >= outputs):
            raise ValueError(f"Model '{self.name}'.{who}: labels must be in [0, {outputs}), got values in "
                             f"[{low}, {high}]")

    def _output_units(self):
        try:
            shape = self.compute_output_shape(self._build_input_shape)
        except Exception:
            return None
        return shape[-1] if isinstance(shape, tuple) else None

    # --- one batch ---------------------------------------------------------------------
    def _loss_of(self, y, y_pred, sample_weight=None):
        loss = self.loss(y, y_pred, sample_weight)
        for penalty in self.losses:
            loss = A.add(loss, penalty)
        return loss

    def _train_step(self, x, y, sample_weight=None):
        y_pred = self(x, training=True)
        loss = self._loss_of(y, y_pred, sample_weight)
        loss.backward()
        variables = self.trainable_weights
        grads = [v.grad for v in variables]
        for v in variables:
            v.grad = None
        self.optimizer.apply(grads, variables)
        for metric in self.compiled_metrics:
            metric.update_state(y, y_pred.data, sample_weight)
        return loss.data

    def train_on_batch(self, x, y, sample_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        x, y = self._check_data("train_on_batch", x, y, sample_weight)
        for metric in self.compiled_metrics:
            metric.reset_state()
        everything = np.arange(len(y))
        loss = float(self._train_step(_take(x, everything), _take(y, everything),
                                      _take(sample_weight, everything)))
        return self._results(loss, return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=len(y), sample_weight=sample_weight, verbose=0,
                             return_dict=return_dict)

    def predict_on_batch(self, x):
        with no_grad():
            return _host(self(_take(x, slice(None)), training=False))

    def _results(self, loss, return_dict):
        values = {"loss": loss, **{m.name: m.result() for m in self.compiled_metrics}}
        if return_dict:
            return values
        return loss if not self.compiled_metrics else list(values.values())

    # --- fit -------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None):
        """Train for ``epochs`` epochs; returns the History callback (Keras semantics)."""
        who = "fit"
        self._require_compiled(who)
        batch_size = 32 if batch_size is None else batch_size
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"Model '{self.name}'.fit: batch_size must be a positive int, got {batch_size!r}")
        if not 0 <= validation_split < 1:
            raise ValueError(f"Model '{self.name}'.fit: validation_split must be in [0, 1), got {validation_split}")
        if y is None:
            raise ValueError(f"Model '{self.name}'.fit: y is required (datasets arrive with the model-API issue)")
        x, y = self._check_data(who, x, y, sample_weight)
        if class_weight is not None:
            sample_weight = _class_weights_to_sample_weights(self.name, y, class_weight, sample_weight)
        if validation_split and validation_data is None:
            split = int(len(y) * (1 - validation_split))
            validation_data = (x[split:], y[split:])
            x, y = x[:split], y[:split]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[:split]
        if validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError(f"Model '{self.name}'.fit: validation_data must be (x, y) or (x, y, "
                                 f"sample_weight), got a tuple of {len(validation_data)}")
            self._check_data("fit(validation_data)", *validation_data[:2])
        verbose = 1 if verbose == "auto" else verbose
        n = len(y)
        steps = math.ceil(n / batch_size) if steps_per_epoch is None else steps_per_epoch
        history = callbacks_module.History()
        cbs = callbacks_module.CallbackList([history] + list(callbacks or []), self,
                                           {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch)
            order = random.generator().permutation(n) if shuffle else np.arange(n)
            logs = self._fit_epoch(x, y, sample_weight, order, batch_size, steps, epoch, epochs, verbose, cbs)
            if validation_data is not None:
                val = self.evaluate(*validation_data, batch_size=batch_size, verbose=0, return_dict=True)
                logs.update({f"val_{k}": v for k, v in val.items()})
            if verbose == 2 or (verbose == 1 and validation_data is not None):
                print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return history

    def _fit_epoch(self, x, y, sample_weight, order, batch_size, steps, epoch, epochs, verbose, cbs):
        running = Mean("loss")
        for metric in self.compiled_metrics:
            metric.reset_state()
        bar = _progress_bar(steps, f"Epoch {epoch + 1}/{epochs}", verbose == 1)
        logs = {}
        for step in range(steps):
            index = order[(step * batch_size) % len(order):][:batch_size]
            cbs.on_train_batch_begin(step)
            loss = self._train_step(_take(x, index), _take(y, index), _take(sample_weight, index))
            running.update_state(loss, count=len(index))
            if (step + 1) % LOG_EVERY == 0 or step + 1 == steps:  # the one host sync per logging step
                logs = {"loss": running.result(), **{m.name: m.result() for m in self.compiled_metrics}}
                if not math.isfinite(logs["loss"]):
                    print(f"Model '{self.name}'.fit: loss became {logs['loss']} at epoch {epoch + 1}, "
                          f"step {step + 1}")
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
                cbs.on_train_batch_end(step, logs)
            if bar is not None:
                bar.update(1)
            if self.stop_training:
                break
        if bar is not None:
            bar.close()
        return logs

    # --- evaluate / predict ------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, return_dict=False):
        self._require_compiled("evaluate")
        x, y = self._check_data("evaluate", x, y, sample_weight)
        batch_size = batch_size or 32
        running = Mean("loss")
        for metric in self.compiled_metrics:
            metric.reset_state()
        n = len(y)
        bar = _progress_bar(math.ceil(n / batch_size), "Evaluate", verbose == 1 or verbose == "auto")
        with no_grad():
            for start in range(0, n, batch_size):
                index = slice(start, start + batch_size)
                xb, yb, wb = _take(x, index), _take(y, index), _take(sample_weight, index)
                y_pred = self(xb, training=False)
                running.update_state(self._loss_of(yb, y_pred, wb).data, count=len(yb))
                for metric in self.compiled_metrics:
                    metric.update_state(yb, y_pred.data, wb)
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        return self._results(running.result(), return_dict)

    def predict(self, x, batch_size=None, verbose="auto"):
        """Outputs for ``x`` in batches, as NumPy arrays."""
        if isinstance(x, (list, tuple)):
            x = [np.asarray(_host(a)) for a in x]
            n = _num_samples(f"Model '{self.name}'.predict", x)
        else:
            x = np.asarray(_host(x))
            n = len(x)
        batch_size = batch_size or 32
        outputs = []
        bar = _progress_bar(math.ceil(n / batch_size), "Predict", verbose == 1)
        with no_grad():
            for start in range(0, n, batch_size):
                out = self(_take(x, slice(start, start + batch_size)), training=False)
                outputs.append([_host(o) for o in out] if isinstance(out, list) else _host(out))
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        if outputs and isinstance(outputs[0], list):
            return [np.concatenate(parts) for parts in zip(*outputs)]
        return np.concatenate(outputs)

    # --- saving -------------------------------------------------------------------------
    def save(self, filepath):
        from .saving import save_model
        save_model(self, filepath)

    def save_weights(self, filepath):
        from .saving import save_weights
        save_weights(self, filepath)

    def load_weights(self, filepath):
        from .saving import load_weights
        load_weights(self, filepath)


def _class_weights_to_sample_weights(name, y, class_weight, sample_weight):
    labels = y.reshape(len(y), -1)
    labels = labels.argmax(-1) if labels.shape[1] > 1 else labels[:, 0].astype(int)
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise ValueError(f"Model '{name}'.fit: class_weight has no entry for classes {sorted(missing)}")
    weights = np.array([class_weight[int(c)] for c in labels], dtype=np.float32)
    return weights if sample_weight is None else weights * np.asarray(sample_weight, dtype=np.float32)


def _progress_bar(total, description, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=description, unit="batch", leave=True, dynamic_ncols=True)
