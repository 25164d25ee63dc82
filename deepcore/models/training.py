"""The training loop: fit / evaluate / predict, their one-batch forms, and the Keras 3
overridable steps (``train_step``, ``test_step``, ``predict_step``, ``compute_loss``).

One loop over batches: move the batch to the device, forward, loss,
backward, optimizer update, metrics on the device, and one host sync per
logging step (every ``LOG_EVERY`` batches and at the end of the epoch).
"""
from __future__ import annotations

import math

import numpy as np

from .. import callbacks as callbacks_module
from ..autograd.function import no_grad
from ..autograd.variable import Variable
from ..backend.device import get_device
from ..backend.transfer import to_device_async
from ..utils import unpack_x_y_sample_weight
from .data_adapter import (ArrayBatches, DatasetBatches, flatten_structure, is_dataset, map_structure, to_host)

LOG_EVERY = 10  # batches between host syncs for the progress bar and batch callbacks


def _to_device(data):
    """A batch to the current device; host arrays go to a GPU through pinned memory (backend/transfer.py)."""
    target = get_device()
    return map_structure(lambda a: to_device_async(a, target), data)


def _progress_bar(total, description, enabled):
    if not enabled:
        return None
    import sys

    from tqdm.auto import tqdm
    interactive = sys.stderr.isatty()  # in a log file, redraw rarely instead of ten times a second
    return tqdm(total=total, desc=description, unit="batch", leave=True, dynamic_ncols=True,
                mininterval=0.1 if interactive else 30.0)


class TrainingMixin:
    """fit / evaluate / predict for Model (kept apart from the graph code in model.py)."""

    # --- overridable steps (Keras 3 names) ----------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Compiled losses (weighted per output) plus the layers' regularization penalties."""
        return self._objectives.total_loss(y, y_pred, sample_weight, self.losses)

    def train_step(self, data):
        """One optimizer step on a batch. Returns None (logs come from the metric trackers) or a dict."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        self.apply_gradients_of(loss)
        self._objectives.update_metrics(y, y_pred, sample_weight, loss.data, _batch_size(x))

    def apply_gradients_of(self, loss):
        """Backpropagate ``loss`` and let the optimizer update the trainable weights."""
        variables = self._trained_weights()
        grads = self.compute_gradients(loss, variables, self._distribute.gradient_hook)
        self.optimizer.apply(self._distribute.reduce_gradients(grads, variables), variables)

    def _trained_weights(self):
        """``trainable_weights``, walked again only when ``Variable.tracking_version`` says a layer attribute
        was set (sublayers, ``trainable``), a Variable created or its ``trainable`` changed, and at each fit():
        the walk costs 15-30 us a step even for the MLP. Not seen: layers put into a list or dict attribute
        in place after this model has trained; a layer attribute set in each ``call`` disables the cache."""
        cached = self.__dict__.get("_trained")
        if cached is None or cached[0] != Variable.tracking_version:
            cached = (Variable.tracking_version, self.trainable_weights)
            self.__dict__["_trained"] = cached  # not through __setattr__, which would make it stale at once
        return cached[1]

    @staticmethod
    def compute_gradients(loss, variables, on_ready=None):
        """d loss / d variable for each variable (arrays; None where the loss does not depend on it).
        ``on_ready(variable)`` is called as each gradient becomes final during backward."""
        for v in variables:
            v.grad = None
        loss.backward(on_leaf_grad=on_ready)
        grads = [v.grad for v in variables]
        for v in variables:
            v.grad = None
        return grads

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._objectives.update_metrics(y, y_pred, sample_weight, loss.data, _batch_size(x))

    @property
    def metrics(self):
        """Keras 3: the loss tracker and the compiled metrics; a custom train_step may update and return them
        (a subclass may override this with its own trackers, which fit then resets every epoch)."""
        objectives = getattr(self, "_objectives", None)
        return objectives.all_metrics() if objectives is not None else []

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def predict_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self(x, training=False)

    # --- checks before any compute --------------------------------------------------------
    def _require_compiled(self, who):
        if self.optimizer is None or getattr(self, "_objectives", None) is None:
            raise RuntimeError(f"Model '{self.name}'.{who}: call compile(optimizer, loss) first")

    def _check_arrays(self, who, x, y, sample_weight):
        """Same sample count everywhere, input shapes as built, sparse labels in range."""
        where = f"Model '{self.name}'.{who}"
        counts = {len(a) for a in flatten_structure(x)}
        if len(counts) != 1:
            raise ValueError(f"{where}: all inputs must have the same number of samples, got {sorted(counts)}")
        n = counts.pop()
        if n == 0:
            raise ValueError(f"{where}: got 0 samples")
        for label, other in (("y", y), ("sample_weight", sample_weight)):
            for array in flatten_structure(other):
                if len(array) != n:
                    raise ValueError(f"{where}: x has {n} samples but {label} has {len(array)}")
        expected = self._expected_input_shapes()
        given = flatten_structure(x) if not isinstance(x, dict) else [x.get(t.layer.name) for t in self.inputs]
        if expected is not None:
            if len(given) != len(expected):
                raise ValueError(f"{where}: the model takes {len(expected)} input(s), got {len(given)}")
            for shape, array in zip(expected, given):
                if array is None or len(shape) != array.ndim or \
                        any(e is not None and e != g for e, g in zip(shape[1:], array.shape[1:])):
                    got = None if array is None else array.shape
                    raise ValueError(f"{where}: expected input of shape {('batch',) + tuple(shape[1:])}, "
                                     f"got x of shape {got}")
        if y is not None:
            self._check_targets(where, y)

    def _expected_input_shapes(self):
        if self._graph is not None:
            return [t.shape for t in self.inputs]
        shape = getattr(self, "_build_input_shape", None)
        return [shape] if isinstance(shape, tuple) and getattr(self, "_layers", None) is not None else None

    def _check_targets(self, where, y):
        units = self._output_units()
        ys = flatten_structure(y) if isinstance(y, (list, dict)) else [y]
        for i, (loss, target) in enumerate(zip(self._objectives.losses, ys)):
            if getattr(loss, "name", "") != "sparse_categorical_crossentropy" or target is None:
                continue
            if not np.issubdtype(target.dtype, np.integer) and not np.all(np.mod(target, 1) == 0):
                raise ValueError(f"{where}: sparse_categorical_crossentropy needs integer class labels, got "
                                 f"{target.dtype} values such as {target.reshape(-1)[:3]}")
            low, high = int(target.min()), int(target.max())
            classes = units[i] if units and i < len(units) else None
            if low < 0 or (classes is not None and high >= classes):
                raise ValueError(f"{where}: labels must be in [0, {classes}), got values in [{low}, {high}]")

    def _output_units(self):
        """Size of the last axis of each output, when known without running the model."""
        if self._graph is not None:
            return [t.shape[-1] for t in self.outputs]
        shapes = getattr(self, "_output_shapes", None)
        if shapes and getattr(self, "_layers", None):
            return [shapes[id(self._layers[-1])][-1]]
        return None

    def _batches(self, who, x, y, sample_weight, batch_size, shuffle, class_weight=None):
        if is_dataset(x):
            if y is not None or sample_weight is not None:
                raise ValueError(f"Model '{self.name}'.{who}: with a dataset or generator as x, y and "
                                 f"sample_weight come from it; do not pass them separately")
            return DatasetBatches(x, f"Model '{self.name}'.{who}", shuffle=shuffle)
        if x is None:
            raise ValueError(f"Model '{self.name}'.{who}: x is required")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"Model '{self.name}'.{who}: batch_size must be a positive int, got {batch_size!r}")
        x, y, sample_weight = to_host(x), to_host(y), to_host(sample_weight)
        self._check_arrays(who, x, y, sample_weight)
        if class_weight is not None:
            sample_weight = _class_weights(f"Model '{self.name}'.{who}", y, class_weight, sample_weight)
        return ArrayBatches(x, y, sample_weight, batch_size, shuffle)

    # --- one batch --------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        batches = self._batches("train_on_batch", x, y, sample_weight, len(flatten_structure(to_host(x))[0]),
                                False, class_weight)
        batches = self._distribute.distribute_batches(batches, self, training=True)
        self._objectives.reset()
        logs = self.train_step(_to_device(_step_data(next(batches.epoch()))))
        return self._format(logs or self._distribute.results(self._objectives), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=len(flatten_structure(to_host(x))[0]), sample_weight=sample_weight,
                             verbose=0, return_dict=return_dict)

    def predict_on_batch(self, x):
        with no_grad():
            return map_structure(lambda t: to_host(t.data), self.predict_step(_to_device(to_host(x))))

    def _format(self, logs, return_dict):
        logs = host_logs(logs)
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    # --- fit ------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns the History callback (Keras semantics)."""
        self._require_compiled("fit")
        self.__dict__.pop("_trained", None)
        where = f"Model '{self.name}'.fit"
        if not 0 <= validation_split < 1:
            raise ValueError(f"{where}: validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is None:
            if is_dataset(x):
                raise ValueError(f"{where}: validation_split needs array data; pass validation_data instead")
            x, y, sample_weight = to_host(x), to_host(y), to_host(sample_weight)
            n = len(flatten_structure(x)[0])
            cut = int(n * (1 - validation_split))
            head, tail = (lambda a: a[:cut]), (lambda a: a[cut:])
            validation_data = (map_structure(tail, x), map_structure(tail, y))
            x, y, sample_weight = map_structure(head, x), map_structure(head, y), map_structure(head, sample_weight)
        train = self._distribute.distribute_batches(
            self._batches("fit", x, y, sample_weight, batch_size or 32, shuffle, class_weight), self, training=True)
        if validation_data is not None and not is_dataset(validation_data):
            if not isinstance(validation_data, tuple) or len(validation_data) not in (2, 3):
                raise ValueError(f"{where}: validation_data must be (x, y) or (x, y, sample_weight)")
            self._batches("fit(validation_data)", *validation_data[:2], None, 1, False)  # checks only
        steps = steps_per_epoch or train.steps
        verbose = (1 if verbose == "auto" else verbose) if self._distribute.is_chief else 0
        history = callbacks_module.History()
        rank_callbacks = self._distribute.training_callbacks(list(callbacks or []))  # rank 0's alone when distributed
        cbs = callbacks_module.CallbackList([history] + rank_callbacks, self,
                                           {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        self._initial_epoch = None
        cbs.on_train_begin()
        start = self._initial_epoch if self._initial_epoch is not None else initial_epoch  # BackupAndRestore
        for epoch in range(start, epochs):
            cbs.on_epoch_begin(epoch)
            bar = _progress_bar(steps, f"Epoch {epoch + 1}/{epochs}", verbose == 1)
            logs = self._fit_epoch(train, steps_per_epoch, steps, epoch, bar, cbs)
            if validation_data is not None and (epoch + 1) % validation_freq == 0:
                val = self._evaluate_batches(self._validation_batches(validation_data, validation_batch_size
                                                                      or batch_size or 32), None, False)
                logs.update({f"val_{k}": v for k, v in val.items()})
            if bar is not None:  # the epoch's one line ends with every log, validation included
                bar.set_postfix(format_logs(logs), refresh=False)
                bar.close()
            if verbose == 2:
                print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v}" for k, v in format_logs(logs).items()))
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return history

    def _validation_batches(self, validation_data, batch_size):
        if is_dataset(validation_data):
            return DatasetBatches(validation_data, f"Model '{self.name}'.fit(validation_data)")
        x, y, w = (tuple(validation_data) + (None,))[:3]
        return ArrayBatches(to_host(x), to_host(y), to_host(w), batch_size, False)

    def _fit_epoch(self, train, steps_per_epoch, steps, epoch, bar, cbs):
        self._objectives.reset()
        self.reset_metrics()
        logs = {}
        for step, batch in enumerate(train.epoch(steps_per_epoch)):
            cbs.on_train_batch_begin(step)
            returned = self.train_step(_to_device(_step_data(batch)))
            if (step + 1) % LOG_EVERY == 0 or step + 1 == steps:  # the one host sync per logging step
                logs = host_logs(returned or self._distribute.results(self._objectives))
                if not math.isfinite(logs.get("loss", 0.0)):
                    print(f"Model '{self.name}'.fit: loss became {logs['loss']} at epoch {epoch + 1}, "
                          f"step {step + 1}")
                if bar is not None:
                    bar.set_postfix(format_logs(logs), refresh=False)
                cbs.on_train_batch_end(step, logs)
            if bar is not None:
                bar.update(1)
            if self.stop_training:
                break
        return logs or host_logs(self._distribute.results(self._objectives))

    # --- evaluate / predict ------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 return_dict=False):
        self._require_compiled("evaluate")
        batches = self._batches("evaluate", x, y, sample_weight, batch_size or 32, False)
        logs = self._evaluate_batches(batches, steps, verbose in (1, "auto"))
        return self._format(logs, return_dict)

    def _evaluate_batches(self, batches, steps, show):
        batches = self._distribute.distribute_batches(batches)
        self._objectives.reset()
        self.reset_metrics()
        bar = _progress_bar(steps or batches.steps, "Evaluate", show and self._distribute.is_chief)
        returned = None
        with no_grad():
            for batch in batches.epoch(steps):
                returned = self.test_step(_to_device(_step_data(batch)))
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        return host_logs(returned or self._distribute.results(self._objectives))

    def predict(self, x, batch_size=None, verbose="auto", steps=None):
        """Outputs for ``x`` in batches, as NumPy arrays (a list for several outputs)."""
        if is_dataset(x):
            batches = DatasetBatches(x, f"Model '{self.name}'.predict")
        else:
            x = to_host(x)
            counts = {len(a) for a in flatten_structure(x)}
            if len(counts) != 1:
                raise ValueError(f"Model '{self.name}'.predict: inputs have different sample counts {counts}")
            batches = ArrayBatches(x, None, None, batch_size or 32, False)
        batches = self._distribute.distribute_batches(batches)
        outputs = []
        bar = _progress_bar(steps or batches.steps, "Predict", verbose == 1 and self._distribute.is_chief)
        with no_grad():
            for xb, _, _ in batches.epoch(steps):
                out = self.predict_step(_to_device(xb))
                outputs.append([to_host(o.data) for o in out] if isinstance(out, list) else to_host(out.data))
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        outputs = self._distribute.gather_outputs(outputs, batches)
        if outputs and isinstance(outputs[0], list):
            return [np.concatenate(parts) for parts in zip(*outputs)]
        return np.concatenate(outputs)

    # --- saving -----------------------------------------------------------------------------
    def save(self, filepath):
        """Writes ``filepath`` (on rank 0 only under a DataParallel strategy)."""
        from .saving import save_model
        if self._distribute.is_chief:
            save_model(self, filepath)

    def save_weights(self, filepath):
        from .saving import save_weights
        if self._distribute.is_chief:
            save_weights(self, filepath)

    def load_weights(self, filepath):
        from .saving import load_weights
        load_weights(self, filepath)

    def to_json(self) -> str:
        from .saving import to_json
        return to_json(self)


def host_logs(logs):
    """Metric values on the host: floats for scalars, NumPy arrays for per-class results (F1Score(average=None))."""
    values = {}
    for key, value in logs.items():
        value = to_host(value) if hasattr(value, "shape") else value
        values[key] = float(value) if np.ndim(value) == 0 else np.asarray(value)
    return values


def format_logs(logs):
    return {k: f"{v:.4f}" if np.ndim(v) == 0 else np.array2string(np.asarray(v), precision=3) for k, v in logs.items()}


def _step_data(batch):
    """Keras gives train_step/test_step (x, y), and (x, y, sample_weight) only when there are weights."""
    return batch[:2] if isinstance(batch, tuple) and len(batch) == 3 and batch[2] is None else batch


def _batch_size(x):
    return len(flatten_structure(x)[0])


def _class_weights(where, y, class_weight, sample_weight):
    if isinstance(y, (list, dict)):
        raise ValueError(f"{where}: class_weight supports a single output only")
    labels = y.reshape(len(y), -1)
    labels = labels.argmax(-1) if labels.shape[1] > 1 else labels[:, 0].astype(int)
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise ValueError(f"{where}: class_weight has no entry for classes {sorted(missing)}")
    weights = np.array([class_weight[int(c)] for c in labels], dtype=np.float32)
    return weights if sample_weight is None else weights * np.asarray(sample_weight, dtype=np.float32)
