"""Run by tests/distribute/test_data_parallel.py, as one process (`python worker.py CASE OUT`) or as
several (`mpiexec -n N python worker.py CASE OUT`); each rank writes OUT/rank<r>.npz with what it saw."""
import sys
from pathlib import Path

import numpy as np

import deepcore as dc
from deepcore.backend import random
from deepcore.distribute.buckets import GradientBuckets
from deepcore.models.data_adapter import ArrayBatches

SAMPLES, FEATURES, CLASSES, BATCH = 102, 6, 3, 32  # last batch: 6 samples, shards of unequal size on 4 ranks


def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((SAMPLES, FEATURES)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, y


def build(strategy, batch_norm, optimizer):
    dc.utils.set_random_seed(3 + strategy.rank)  # different initial weights per rank: rank 0's must win
    with strategy.scope():
        layers = [dc.Input((FEATURES,)), dc.layers.Dense(16, activation="relu")]
        if batch_norm:
            layers.append(dc.layers.BatchNormalization(synchronized=True))
        model = dc.Sequential(layers + [dc.layers.Dense(CLASSES, activation="softmax")])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    dc.utils.set_random_seed(11)  # the shuffles: rank 0 draws them
    return model


def flat(model):
    return np.concatenate([w.ravel() for w in model.get_weights()])


def suite(strategy, out):
    x, y = data()
    found = {}

    # the sampler: every rank desynchronizes its own generator; the shuffle still comes from rank 0
    random.set_random_seed(5)
    sharded = strategy.distribute_batches(ArrayBatches(np.arange(SAMPLES), None, None, BATCH, True), training=True)
    for epoch in range(2):
        found[f"order{epoch}"] = np.concatenate([batch[0] for batch in sharded.epoch()])
        random.generator().random(strategy.rank + 1)

    # bucketed allreduce (several small buckets) against one allreduce per tensor
    rng = np.random.default_rng(100 + strategy.rank)
    variables = [dc.Variable(np.zeros(shape, np.float32)) for shape in [(5, 7), (3,), (40,), (2, 2, 2), (1,)]]
    grads = [rng.standard_normal(v.shape).astype(np.float32) for v in variables]
    grads[1] = None
    bucketed = GradientBuckets(variables, bucket_bytes=64).reduce(grads, 0.5, strategy.device_communicator)
    per_tensor = [None if g is None else strategy.host.allreduce_sum(g * np.float32(0.5)) for g in grads]
    found["bucket_count"] = np.array(len(GradientBuckets(variables, bucket_bytes=64).buckets))
    found["bucket_error"] = np.array(max(np.abs(a - b).max() for a, b in zip(bucketed, per_tensor) if a is not None))
    found["bucket_none"] = np.array(bucketed[1] is None)

    for name, batch_norm, optimizer in (("plain", False, dc.optimizers.SGD(0.1, momentum=0.9)),
                                        ("syncbn", True, "adam")):
        model = build(strategy, batch_norm, optimizer)
        history = model.fit(x, y, batch_size=BATCH, epochs=3, verbose=2)
        found[f"{name}_weights"] = flat(model)
        found[f"{name}_loss"] = np.array(history.history["loss"])
        found[f"{name}_accuracy"] = np.array(history.history["accuracy"])
        found[f"{name}_evaluate"] = np.array(model.evaluate(x, y, batch_size=BATCH, verbose=0))
        found[f"{name}_predict"] = model.predict(x, batch_size=BATCH, verbose=0)

    # rank 0 alone runs callbacks and saves
    marker = dc.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: open(out / f"callback_rank{strategy.rank}.txt", "a").write(f"{epoch}\n"))
    model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[marker])
    model.save(out / "model.keras")

    # a backup after the first of the plain model's 3 epochs, for `resume` on another world size
    backup = dc.callbacks.BackupAndRestore(out / "backup", delete_checkpoint=False)
    build(strategy, False, dc.optimizers.SGD(0.1, momentum=0.9)).fit(x, y, batch_size=BATCH, epochs=1, verbose=0,
                                                                      callbacks=[backup])
    np.savez(out / f"rank{strategy.rank}.npz", **found)


def resume(strategy, out):
    """The plain model's 3 epochs, resumed from the backup in OUT/backup (written after epoch 1)."""
    x, y = data()
    model = build(strategy, False, dc.optimizers.SGD(0.1, momentum=0.9))
    model.set_weights([w + 1 for w in model.get_weights()])  # only the backup's weights ...
    dc.utils.set_random_seed(99)  # ... and generator state can give the uninterrupted run's result
    history = model.fit(x, y, batch_size=BATCH, epochs=3, verbose=0,
                        callbacks=[dc.callbacks.BackupAndRestore(out / "backup")])
    np.savez(out / f"rank{strategy.rank}.npz", plain_weights=flat(model), epochs=len(history.history["loss"]))


def fail(strategy, out):
    """Rank 1 raises in its fourth training step; the job must end with that error, not hang."""
    x, y = data()

    class Failing(dc.layers.Layer):
        steps = 0

        def call(self, inputs, training=None):
            if training:
                Failing.steps += 1
                if strategy.rank == 1 and Failing.steps == 4:
                    raise RuntimeError("rank 1 failed on purpose")
            return inputs

    with strategy.scope():
        model = dc.Sequential([dc.Input((FEATURES,)), Failing(), dc.layers.Dense(CLASSES, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=50, verbose=0)


if __name__ == "__main__":
    case, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    {"suite": suite, "resume": resume, "fail": fail}[case](dc.distribute.DataParallel(), out)
