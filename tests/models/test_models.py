import json
import os
import zipfile

import numpy as np
import pytest

import deepcore as dc
import deepcore as keras  # the point: Keras code runs unchanged

rng = np.random.default_rng(4)


def blobs(n=600, classes=3, dim=8):
    """Linearly separable Gaussian blobs: any working trainer gets them right."""
    centers = rng.standard_normal((classes, dim)) * 3
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.standard_normal((n, dim))).astype(np.float32)
    return x, y


def test_keras_script_runs_unchanged():
    x, y = blobs()
    model = keras.Sequential([
        keras.Input(shape=(8,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=8, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 8
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.9
    assert model.predict(x[:7], verbose=0).shape == (7, 3)


def test_cnn_with_batchnorm_learns_and_summary_counts_params(capsys):
    x = rng.standard_normal((64, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)
    model = dc.Sequential([
        dc.layers.Conv2D(4, 3, padding="same", input_shape=(8, 8, 1)),
        dc.layers.BatchNormalization(),
        dc.layers.ReLU(),
        dc.layers.MaxPooling2D(2),
        dc.layers.Flatten(),
        dc.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=dc.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    first = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, batch_size=16, epochs=10, verbose=0)
    assert model.evaluate(x, y, verbose=0)[0] < first
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 8, 8, 4)" in out and "Total params: 186" in out and "Non-trainable params: 8" in out


def test_functional_model_with_skip_connection_and_shared_layer():
    inputs = dc.Input((6,))
    shared = dc.layers.Dense(6, activation="relu")
    h = shared(inputs)
    h = dc.layers.Add()([h, inputs])
    h = shared(h)  # the same weights used twice
    outputs = dc.layers.Dense(2)(h)
    model = dc.Model(inputs, outputs)
    assert len(model.weights) == 4
    x = rng.standard_normal((5, 6)).astype(np.float32)
    k1, b1, k2, b2 = model.get_weights()
    first = np.maximum(x @ k1 + b1, 0) + x
    expected = np.maximum(first @ k1 + b1, 0) @ k2 + b2
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((5, 2), np.float32), epochs=2, verbose=0)


def test_subclassed_model_trains():
    class TwoLayer(dc.Model):
        def __init__(self):
            super().__init__()
            self.hidden = dc.layers.Dense(8, activation="tanh")
            self.out = dc.layers.Dense(3, activation="softmax")

        def call(self, x):
            return self.out(self.hidden(x))

    x, y = blobs(200)
    model = TwoLayer()
    model.compile(dc.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, verbose=0)
    assert len(model.trainable_weights) == 4
    assert model.evaluate(x, y, return_dict=True, verbose=0)["accuracy"] > 0.9


def test_train_on_batch_and_weight_round_trip():
    x, y = blobs(64)
    model = dc.Sequential([dc.Input((8,)), dc.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    loss, accuracy = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    assert any(np.abs(b - a).max() > 0 for a, b in zip(before, model.get_weights()))
    model.set_weights(before)
    np.testing.assert_array_equal(model.get_weights()[0], before[0])


def test_save_and_load_round_trip(tmp_path):
    x, y = blobs(50)
    inputs = dc.Input((8,))
    outputs = dc.layers.Dense(3, activation="softmax")(dc.layers.BatchNormalization()(inputs))
    for model in (dc.Sequential([dc.Input((8,)), dc.layers.Dense(4, activation="relu"),
                                  dc.layers.Dense(3, activation="softmax")]),
                  dc.Model(inputs, outputs)):
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, verbose=0)
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = dc.models.load_model(path)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
        assert loaded.loss.name == "sparse_categorical_crossentropy"
        assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []


def test_load_rejects_bad_files(tmp_path):
    model = dc.Sequential([dc.Input((4,)), dc.layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a deepcore model file"):
        dc.models.load_model(tmp_path / "junk.keras")

    def rewrite(name, change):
        with zipfile.ZipFile(path) as archive:
            parts = {n: archive.read(n) for n in archive.namelist()}
        document = json.loads(parts["config.json"])
        change(document)
        parts["config.json"] = json.dumps(document)
        target = tmp_path / name
        with zipfile.ZipFile(target, "w") as archive:
            for n, data in parts.items():
                archive.writestr(n, data)
        return target

    with pytest.raises(ValueError, match="format_version"):
        dc.models.load_model(rewrite("v.keras", lambda d: d.update(format_version=99)))
    with pytest.raises(ValueError, match="unknown layer class 'os.system'"):
        dc.models.load_model(rewrite("c.keras", lambda d: d["config"]["layers"][0].update(class_name="os.system")))
    with pytest.raises(ValueError, match=r"has shape \(4, 2\) in the file, the model expects \(4, 5\)"):
        dc.models.load_model(rewrite("s.keras", lambda d: d["config"]["layers"][0]["config"].update(units=5)))


def test_callbacks_early_stopping_and_checkpoint(tmp_path):
    x, y = blobs(100)
    model = dc.Sequential([dc.Input((8,)), dc.layers.Dense(3, activation="softmax")])
    model.compile(dc.optimizers.SGD(1e-9), "sparse_categorical_crossentropy")  # no progress: stops early
    stop = dc.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e-3)
    checkpoint = dc.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.keras"))
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[stop, checkpoint])
    assert len(history.history["loss"]) == 2
    assert sorted(os.listdir(tmp_path)) == ["e1.keras", "e2.keras"]


def test_set_random_seed_gives_identical_runs():
    x, y = blobs(100)

    def run():
        dc.utils.set_random_seed(7)
        model = dc.Sequential([dc.Input((8,)), dc.layers.Dense(5, activation="relu"), dc.layers.Dropout(0.3),
                               dc.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)
