"""The callback base class with Keras 3's hooks, the list that calls them, and LambdaCallback."""
from __future__ import annotations


class Callback:
    """Override the hooks you need. ``self.model`` is the model being trained, ``self.params`` holds
    ``epochs``, ``steps`` and ``verbose``. Every hook gets a ``logs`` dict (possibly empty).

    deepcore's fit calls ``on_train_batch_end`` on logging steps only (every ``LOG_EVERY`` batches and the
    epoch's last), with the running loss and metrics; ``on_train_batch_begin`` on every batch.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # Keras: the old name still works

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)


class CallbackList(Callback):
    """Calls each hook on every callback in order, always with a logs dict.

    History callbacks run last, as in Keras, so that logs other callbacks add at the end of an epoch
    (``learning_rate`` from ReduceLROnPlateau or LearningRateScheduler) are recorded.
    """

    def __init__(self, callbacks=None, model=None, params=None):
        super().__init__()
        from .history import History

        callbacks = list(callbacks or [])
        self.callbacks = [c for c in callbacks if not isinstance(c, History)] + \
            [c for c in callbacks if isinstance(c, History)]
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks: expected Callback instances, got {type(callback).__name__}")
            callback.set_params(params or {})
            if model is not None:
                callback.set_model(model)
        self.model, self.params = model, params or {}

    def _each(self, hook, *args):
        *index, logs = args
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            getattr(callback, hook)(*index, logs)

    def on_train_begin(self, logs=None): self._each("on_train_begin", logs)
    def on_train_end(self, logs=None): self._each("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._each("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._each("on_epoch_end", epoch, logs)
    def on_train_batch_begin(self, batch, logs=None): self._each("on_train_batch_begin", batch, logs)
    def on_train_batch_end(self, batch, logs=None): self._each("on_train_batch_end", batch, logs)
    def on_test_begin(self, logs=None): self._each("on_test_begin", logs)
    def on_test_end(self, logs=None): self._each("on_test_end", logs)
    def on_test_batch_begin(self, batch, logs=None): self._each("on_test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._each("on_test_batch_end", batch, logs)
    def on_predict_begin(self, logs=None): self._each("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._each("on_predict_end", logs)
    def on_predict_batch_begin(self, batch, logs=None): self._each("on_predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._each("on_predict_batch_end", batch, logs)


class LambdaCallback(Callback):
    """A callback from functions: ``on_epoch_begin/end(epoch, logs)``, ``on_train_begin/end(logs)``,
    ``on_train_batch_begin/end(batch, logs)``; other hooks by keyword (``on_test_end=...``)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, function in hooks.items():
            if not (name.startswith("on_") and hasattr(Callback, name)):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            if function is not None:
                setattr(self, name, function)
