"""Callbacks with small real models: Keras 3 semantics for each, checked against what fit did."""
import csv
import os

import numpy as np
import pytest

import deepcore as dc
from deepcore import callbacks

rng = np.random.default_rng(0)
X = rng.standard_normal((64, 8)).astype(np.float32)
Y = (X[:, :3].argmax(1)).astype(np.int64)


def small_model(optimizer="adam", metrics=None, seed=0):
    dc.utils.set_random_seed(seed)
    model = dc.Sequential([dc.Input((8,)), dc.layers.Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=metrics)
    return model


def scripted(name, values):
    """A callback that writes values[epoch] into the epoch logs as `name` (callbacks after it see it)."""
    return callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(name, values[epoch]))


# --- EarlyStopping ---------------------------------------------------------------------------------
def test_early_stopping_restores_the_best_weights():
    model = small_model(dc.optimizers.SGD(0.5))
    seen = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))
    score = [0.9, 0.5, 0.7, 0.6, 0.8, 0.4]  # best at epoch 1; patience 3 stops at epoch 4
    stop = callbacks.EarlyStopping(monitor="score", patience=3, mode="min", restore_best_weights=True)
    history = model.fit(X, Y, epochs=6, batch_size=16, verbose=0, callbacks=[record, scripted("score", score), stop])
    assert history.epoch == [0, 1, 2, 3, 4] and stop.stopped_epoch == 4 and stop.best_epoch == 1
    for restored, best in zip(model.get_weights(), seen[1]):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(seen[1][0], seen[4][0])  # training did move the weights afterwards


def run_early_stopping(values, **kwargs):
    """Epoch at which EarlyStopping stops for a sequence of monitored values (None: never)."""
    model = small_model()
    stop = callbacks.EarlyStopping(monitor="m", **kwargs)
    stop.set_model(model)
    stop.on_train_begin({})
    for epoch, value in enumerate(values):
        stop.on_epoch_end(epoch, {"m": value})
        if model.stop_training:
            return epoch
    return None


def test_early_stopping_semantics_as_keras():
    assert run_early_stopping([1.0, 1.0, 1.0], mode="min", patience=0) == 1
    assert run_early_stopping([1.0, 0.9, 0.8, 0.8, 0.8], mode="min", patience=2) == 4
    assert run_early_stopping([1.0, 0.95, 0.9, 0.85], mode="min", patience=1, min_delta=0.1) == 1
    assert run_early_stopping([0.1, 0.2, 0.2, 0.2], mode="max", patience=2) == 3
    # baseline: improvements that do not beat it do not reset the wait (which counts from the first epoch)
    assert run_early_stopping([1.0, 0.9, 0.9, 0.9], mode="min", patience=3) is None
    assert run_early_stopping([1.0, 0.9, 0.9, 0.9], mode="min", patience=3, baseline=0.5) == 2
    assert run_early_stopping([1.0, 0.4, 0.4, 0.4], mode="min", patience=3, baseline=0.5) is None
    # start_from_epoch: the first epochs are not monitored
    assert run_early_stopping([1.0, 1.0, 1.0, 1.0, 1.0], mode="min", patience=1, start_from_epoch=3) == 4


def test_mode_auto_follows_the_metric_direction():
    model = small_model(metrics=["accuracy", dc.metrics.MeanAbsoluteError(name="err")])
    for monitor, expected in [("val_accuracy", np.greater), ("loss", np.less), ("err", np.less),
                              ("val_auc", np.greater)]:
        stop = callbacks.EarlyStopping(monitor=monitor)
        stop.set_model(model)
        stop._set_monitor_op()
        assert stop.monitor_op is expected, monitor
    stop = callbacks.EarlyStopping(monitor="whatever")
    stop.set_model(model)
    with pytest.raises(ValueError, match="Pass mode='max' or mode='min'"):
        stop.on_epoch_end(0, {"whatever": 1.0})


# --- learning rate ---------------------------------------------------------------------------------
def test_reduce_lr_on_plateau_lowers_the_learning_rate():
    model = small_model(dc.optimizers.SGD(1e-9))  # no progress: the loss plateaus at once
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e-4)
    history = model.fit(X, Y, epochs=4, batch_size=16, verbose=0, callbacks=[reduce])
    # the logged rate is the one in effect during the epoch; reductions happen at the end of epochs 1, 2, 3
    np.testing.assert_allclose(history.history["learning_rate"], [1e-9, 1e-9, 5e-10, 2.5e-10])
    assert model.optimizer.learning_rate == pytest.approx(1.25e-10)


def test_reduce_lr_on_plateau_cooldown_and_min_lr():
    model = small_model(dc.optimizers.SGD(1.0))
    reduce = callbacks.ReduceLROnPlateau(monitor="m", factor=0.1, patience=1, cooldown=2, min_lr=0.005, mode="min")
    reduce.set_model(model)
    reduce.on_train_begin({})
    rates = []
    for epoch in range(8):
        reduce.on_epoch_end(epoch, {"m": 1.0})
        rates.append(model.optimizer.learning_rate)
    # reduce at epoch 1; the cooldown counts down at epochs 2 and 3, which counts again (patience 1): reduce
    # at 3; then at 5, floored at min_lr (Keras' order of checks)
    np.testing.assert_allclose(rates, [1.0, 0.1, 0.1, 0.01, 0.01, 0.005, 0.005, 0.005])
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model = small_model(dc.optimizers.SGD(0.1))
    used = []
    probe = callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: used.append(
        model.optimizer.learning_rate) if batch == 0 else None)
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr * 0.5)
    history = model.fit(X, Y, epochs=3, batch_size=16, verbose=0, callbacks=[schedule, probe])
    np.testing.assert_allclose(used, [0.1, 0.05, 0.025])
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.025])
    old_style = callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    old_style.set_model(model)
    old_style.on_epoch_begin(2, {})
    assert model.optimizer.learning_rate == pytest.approx(0.03)
    bad = callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    bad.set_model(model)
    with pytest.raises(ValueError, match="must return a float"):
        bad.on_epoch_begin(0, {})


# --- files -------------------------------------------------------------------------------------------
def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_csv_logger_rows_and_append(tmp_path):
    path = tmp_path / "log.csv"
    model = small_model(metrics=["accuracy"])
    history = model.fit(X, Y, epochs=2, batch_size=16, verbose=0, validation_data=(X[:16], Y[:16]),
                        callbacks=[callbacks.CSVLogger(path)])
    rows = read_csv(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    for epoch, row in enumerate(rows[1:]):
        assert int(row[0]) == epoch
        for key, cell in zip(rows[0][1:], row[1:]):
            assert float(cell) == pytest.approx(history.history[key][epoch], rel=1e-12)
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0, validation_data=(X[:16], Y[:16]),
              callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = read_csv(path)
    assert len(rows) == 4 and rows[0][0] == "epoch" and rows[3][0] == "0"


def test_csv_logger_without_validation_adds_na_columns_as_keras(tmp_path):
    path = tmp_path / "log.csv"
    small_model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, separator=";")])
    with open(path) as handle:
        header, row = handle.read().splitlines()
    assert header == "epoch;loss;val_loss" and row.startswith("0;") and row.endswith(";NA")


def test_model_checkpoint_templates_and_best_only(tmp_path):
    model = small_model(dc.optimizers.SGD(0.1))
    every = callbacks.ModelCheckpoint(str(tmp_path / "all" / "{epoch:02d}-{loss:.2f}.keras"))
    best = callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}.weights.safetensors"), monitor="score",
                                     save_best_only=True, save_weights_only=True, mode="max")
    history = model.fit(X, Y, epochs=4, batch_size=16, verbose=0,
                        callbacks=[scripted("score", [0.1, 0.3, 0.2, 0.5]), every, best])
    expected = [f"{e + 1:02d}-{loss:.2f}.keras" for e, loss in enumerate(history.history["loss"])]
    assert sorted(os.listdir(tmp_path / "all")) == expected
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("best")) == [
        "best-1.weights.safetensors", "best-2.weights.safetensors", "best-4.weights.safetensors"]
    fresh = small_model(seed=5)
    fresh.load_weights(tmp_path / "best-4.weights.safetensors")
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    reloaded = dc.models.load_model(tmp_path / "all" / expected[-1])
    np.testing.assert_allclose(reloaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    missing = callbacks.ModelCheckpoint(str(tmp_path / "{nope}.keras"))
    missing.set_model(model)
    with pytest.raises(KeyError, match="cannot fill the filepath"):
        missing.on_epoch_end(0, {"loss": 1.0})


class Interrupt(callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_backup_and_restore_resumes_as_if_never_interrupted(tmp_path):
    def fit(extra=()):
        model = small_model(dc.optimizers.Adam(0.05), seed=1)
        history = model.fit(X, Y, epochs=5, batch_size=10, shuffle=True, verbose=0,
                            callbacks=[callbacks.BackupAndRestore(tmp_path / "backup"), *extra])
        return model, history

    uninterrupted, _ = fit()
    assert not (tmp_path / "backup").exists()  # deleted after a normal end
    with pytest.raises(KeyboardInterrupt):
        fit([Interrupt(3)])
    assert (tmp_path / "backup" / "backup.safetensors").exists()
    resumed, history = fit()
    assert history.epoch == [3, 4]
    assert resumed.optimizer.iterations == uninterrupted.optimizer.iterations == 5 * 7
    for a, b in zip(resumed.get_weights(), uninterrupted.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_and_restore_rejects_damaged_or_foreign_backups(tmp_path):
    model = small_model()
    backup = callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[backup])
    other = dc.Sequential([dc.Input((8,)), dc.layers.Dense(4), dc.layers.Dense(3)])
    other.compile("adam", "mse")
    foreign = callbacks.BackupAndRestore(tmp_path)
    foreign.set_model(other)
    with pytest.raises(ValueError, match="holds 2 weights but the model has 4"):
        foreign.on_train_begin({})
    data = (tmp_path / "backup.safetensors").read_bytes()
    (tmp_path / "backup.safetensors").write_bytes(data[: len(data) // 2])
    backup.set_model(model)
    with pytest.raises(ValueError, match="is damaged"):
        backup.on_train_begin({})
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int"):
        callbacks.BackupAndRestore(tmp_path, save_freq=0)


# --- the rest ----------------------------------------------------------------------------------------
def test_terminate_on_nan():
    x = X.copy()
    x[0, 0] = np.nan
    history = small_model().fit(x, Y, epochs=3, batch_size=16, shuffle=False, verbose=0,
                                callbacks=[callbacks.TerminateOnNaN()])
    assert history.epoch == [0]


def test_lambda_callback_hook_order_and_history():
    events = []
    hooks = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: events.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"))
    model = small_model()
    history = model.fit(X, Y, epochs=2, batch_size=32, verbose=0, callbacks=[hooks, callbacks.ProgbarLogger()])
    assert events == ["train_begin"] + [e for epoch in range(2) for e in (
        f"epoch_begin {epoch}", "batch_begin 0", "batch_begin 1", "batch_end 1 ['loss']",
        f"epoch_end {epoch} ['loss']")] + ["train_end"]
    assert model.history is history and len(history.history["loss"]) == 2
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_middle'"):
        callbacks.LambdaCallback(on_epoch_middle=print)


def test_callback_list_passes_logs_and_runs_history_last():
    history, seen = callbacks.History(), []
    adds = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__("extra", 1.0))
    listed = callbacks.CallbackList([history, adds], model=None, params={"epochs": 1})
    assert listed.callbacks == [adds, history] and history.params == {"epochs": 1}
    listed.on_train_begin()
    listed.on_epoch_end(0, {"loss": 2.0})
    assert history.history == {"loss": [2.0], "extra": [1.0]}
    listed = callbacks.CallbackList([callbacks.LambdaCallback(on_train_begin=seen.append)])
    listed.on_train_begin()
    assert seen == [{}]
    with pytest.raises(TypeError, match="expected Callback instances"):
        callbacks.CallbackList([print])
