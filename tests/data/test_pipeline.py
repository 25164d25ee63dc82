"""Pipeline: batching and shuffling, determinism, the prefetch thread (order, errors), and fit."""
import threading

import numpy as np
import pytest

import deepcore as dc
from deepcore import data

X = np.arange(10 * 2 * 2 * 1, dtype=np.float32).reshape(10, 2, 2, 1)
Y = np.arange(10)


def epoch(pipeline):
    return [(x.copy(), y.copy()) for x, y in pipeline]


def test_each_epoch_is_a_permutation_in_batches():
    pipeline = data.Pipeline(X, Y, batch_size=4, prefetch=0)
    assert len(pipeline) == 3
    first, second = epoch(pipeline), epoch(pipeline)
    assert [len(y) for _, y in first] == [4, 4, 2] and pipeline.epoch == 2
    for batches in (first, second):
        labels = np.concatenate([y for _, y in batches])
        assert sorted(labels) == list(range(10))
        for x, y in batches:  # x rows travel with their labels
            np.testing.assert_array_equal(x, X[y])
    assert not np.array_equal(np.concatenate([y for _, y in first]), np.concatenate([y for _, y in second]))


def test_without_shuffle_order_is_kept_and_drop_remainder_drops():
    pipeline = data.Pipeline(X, batch_size=4, shuffle=False, drop_remainder=True)
    batches = list(pipeline)
    assert len(batches) == 2
    np.testing.assert_array_equal(np.concatenate(batches), X[:8])


def test_same_seed_same_batches_and_set_random_seed_fixes_the_default():
    transforms = [data.RandomFlip(), data.RandomBrightness(0.5)]
    a = data.Pipeline(X, Y, batch_size=3, transforms=transforms, seed=7)
    b = data.Pipeline(X, Y, batch_size=3, transforms=transforms, seed=7, prefetch=0)
    for _ in range(2):
        for (xa, ya), (xb, yb) in zip(epoch(a), epoch(b)):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    dc.utils.set_random_seed(3)
    c = epoch(data.Pipeline(X, Y, batch_size=3, transforms=transforms))
    dc.utils.set_random_seed(3)
    d = epoch(data.Pipeline(X, Y, batch_size=3, transforms=transforms))
    for (xc, _), (xd, _) in zip(c, d):
        np.testing.assert_array_equal(xc, xd)


def test_prefetched_batches_are_made_on_the_background_thread_in_order():
    made_on = {}

    def record(images, rng):
        made_on[int(images[0, 0, 0, 0])] = threading.current_thread().name
        return images

    pipeline = data.Pipeline(X, batch_size=2, shuffle=False, transforms=[record], prefetch=3)
    reference = data.Pipeline(X, batch_size=2, shuffle=False, prefetch=0)
    for index in range(len(pipeline)):
        np.testing.assert_array_equal(pipeline[index], reference[index])
    first_values = [int(X[start, 0, 0, 0]) for start in range(0, 10, 2)]
    assert made_on[first_values[0]] == threading.current_thread().name  # batch 0: on demand
    assert all(made_on[value].startswith("deepcore-prefetch") for value in first_values[1:])
    pipeline.close()


def test_batches_do_not_depend_on_the_order_they_are_asked_for():
    kwargs = dict(batch_size=3, transforms=[data.RandomTranslation(0.5, 0.5)], seed=1)
    in_order = [x.copy() for x, _ in data.Pipeline(X, Y, **kwargs)]
    shuffled = data.Pipeline(X, Y, **kwargs)
    with pytest.warns(UserWarning, match="out of order"):
        for index in (2, 0, 3, 1):
            np.testing.assert_array_equal(shuffled[index][0], in_order[index])


def test_an_error_on_the_worker_thread_reaches_the_caller():
    def fail_on_third_batch(images, rng):
        if images[0, 0, 0, 0] == X[4, 0, 0, 0]:
            raise RuntimeError(f"bad batch on {threading.current_thread().name}")
        return images

    pipeline = data.Pipeline(X, batch_size=2, shuffle=False, transforms=[fail_on_third_batch], prefetch=2)
    pipeline[0], pipeline[1]
    with pytest.raises(RuntimeError, match="bad batch on deepcore-prefetch"):
        pipeline[2]
    np.testing.assert_array_equal(pipeline[3], X[6:8])  # the pipeline goes on after an error


def test_fit_trains_on_a_pipeline():
    dc.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(0, 1, (32, 4, 4, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)
    model = dc.Sequential([dc.Input((4, 4, 1)), dc.layers.Flatten(), dc.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    pipeline = data.Pipeline(x, y, batch_size=8, transforms=[data.RandomFlip()])
    history = model.fit(pipeline, epochs=2, verbose=0)  # fit reads a self-shuffling pipeline in order
    assert len(history.history["loss"]) == 2 and pipeline.epoch == 2
    evaluation = data.Pipeline(x, y, batch_size=8, shuffle=False)
    assert np.isfinite(model.evaluate(evaluation, verbose=0))
    with pytest.warns(UserWarning, match="out of order"):
        [pipeline[i] for i in (3, 0)]  # prefetching assumes in-order reads; others still work, with a warning


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(x=[1, 2, 3]), TypeError, "x must be an array"),
    (dict(x=X, y=Y[:3]), ValueError, "x has 10 samples but y has 3"),
    (dict(x=X, batch_size=0), ValueError, "batch_size must be an int >= 1"),
    (dict(x=X, prefetch=-1), ValueError, "prefetch must be an int >= 0"),
    (dict(x=X, transforms=["flip"]), TypeError, "must be callable"),
    (dict(x=X, batch_size=11, drop_remainder=True), ValueError, "make no batch"),
])
def test_bad_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.Pipeline(**kwargs)


def test_bad_index_raises():
    pipeline = data.Pipeline(X, batch_size=4)
    with pytest.raises(IndexError, match="out of range for 3 batches"):
        pipeline[3]
    with pytest.raises(TypeError, match="must be an int"):
        pipeline["0"]
