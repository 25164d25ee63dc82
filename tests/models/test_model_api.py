"""Model API beyond Sequential: several inputs/outputs, nesting, freezing, datasets, custom steps, saving."""
import os
import zipfile

import numpy as np
import pytest

import deepcore as dc
import deepcore as keras

rng = np.random.default_rng(6)


def two_in_two_out():
    image, extra = keras.Input((4, 4, 1), name="image"), keras.Input((3,), name="extra")
    features = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, activation="relu")(image))
    merged = keras.layers.Dense(8, activation="relu")(features)
    joined = keras.layers.Add()([merged, keras.layers.Dense(8)(extra)])
    label = keras.layers.Dense(3, activation="softmax", name="label")(joined)
    score = keras.layers.Dense(1, name="score")(joined)
    return keras.Model([image, extra], [label, score])


def test_multi_input_multi_output_with_loss_weights():
    model = two_in_two_out()
    model.compile("adam", loss={"label": "sparse_categorical_crossentropy", "score": "mse"},
                  loss_weights={"label": 1.0, "score": 0.5}, metrics={"label": ["accuracy"]})
    x = [rng.standard_normal((40, 4, 4, 1)).astype(np.float32), rng.standard_normal((40, 3)).astype(np.float32)]
    y = [rng.integers(0, 3, 40), rng.standard_normal((40, 1)).astype(np.float32)]
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25)
    assert {"loss", "label_loss", "score_loss", "label_accuracy", "val_loss", "val_label_accuracy"} <= \
        set(history.history)
    logs = model.evaluate(x, y, return_dict=True, verbose=0)
    np.testing.assert_allclose(logs["loss"], logs["label_loss"] + 0.5 * logs["score_loss"], rtol=1e-4)
    label, score = model.predict(x, verbose=0)
    assert label.shape == (40, 3) and score.shape == (40, 1)


def test_a_list_of_losses_needs_no_metrics():
    model = two_in_two_out()
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"])
    x = [rng.standard_normal((8, 4, 4, 1)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32)]
    logs = model.train_on_batch(x, [rng.integers(0, 3, 8), rng.standard_normal((8, 1))], return_dict=True)
    assert {"loss", "label_loss", "score_loss"} <= set(logs)
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"], metrics=[])
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], []])


def test_nested_model_as_layer_and_summary(capsys):
    block = keras.Sequential([keras.Input((6,)), keras.layers.Dense(6, activation="relu")], name="block")
    inputs = keras.Input((6,))
    outputs = keras.layers.Dense(2, activation="softmax")(block(inputs))
    model = keras.Model(inputs, outputs)
    assert len(model.trainable_weights) == 4
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(rng.standard_normal((16, 6)).astype(np.float32), rng.integers(0, 2, 16), epochs=1, verbose=0)
    model.summary()
    out = capsys.readouterr().out
    assert "block (Sequential)" in out and "(None, 6)" in out and "Total params: 56" in out


def test_freezing_a_layer_keeps_its_weights():
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu", name="frozen"),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(2, activation="softmax")])
    model.get_layer("frozen").trainable = False
    model.get_layer("bn").trainable = False  # frozen BatchNormalization runs in inference mode, as Keras
    before = [model.get_layer("frozen").get_weights(), model.get_layer("bn").get_weights()]
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(rng.standard_normal((32, 5)).astype(np.float32), rng.integers(0, 2, 32), epochs=2, verbose=0)
    for layer, old in zip(("frozen", "bn"), before):
        for a, b in zip(old, model.get_layer(layer).get_weights()):
            np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2


def test_freezing_between_steps_takes_effect_without_compile():
    """The trained weights are cached between steps, but a trainable flag set on a layer or a Variable, or a
    layer added to a Sequential, is seen by the next step."""
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu", name="a"),
                              keras.layers.Dense(2, activation="softmax", name="b")])
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    x, y = rng.standard_normal((16, 5)).astype(np.float32), rng.integers(0, 2, 16)

    def changes(layer_name):
        before = model.get_layer(layer_name).get_weights()
        model.train_on_batch(x, y)
        return [not np.array_equal(a, b) for a, b in zip(before, model.get_layer(layer_name).get_weights())]

    assert changes("a") == [True, True]
    model.get_layer("a").trainable = False
    assert changes("a") == [False, False] and changes("b") == [True, True]
    model.get_layer("a").trainable = True
    model.get_layer("b").bias.trainable = False
    assert changes("b") == [True, False]
    model.pop()
    model.add(keras.layers.Dense(3, activation="softmax", name="c"))
    assert changes("c") == [True, True]
    assert [id(w) for w in model._trained_weights()] == [id(w) for w in model.trainable_weights]
    assert len(model.trainable_weights) == 4


class Batches(dc.utils.PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]


def test_fit_on_pydataset_and_generator():
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 2, 64)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(Batches(x, y, 16), epochs=2, verbose=0, validation_data=Batches(x, y, 32))
    assert len(history.history["val_loss"]) == 2

    def forever():
        while True:
            for i in range(0, 64, 8):
                yield x[i:i + 8], y[i:i + 8]

    model.fit(forever(), steps_per_epoch=5, epochs=2, verbose=0)
    assert model.evaluate(Batches(x, y, 16), verbose=0)[0] > 0
    with pytest.raises(ValueError, match="ran out after 2 batches"):
        model.fit(iter([(x[:8], y[:8]), (x[8:16], y[8:16])]), steps_per_epoch=3, verbose=0)


def test_custom_train_step_with_gradient_tape():
    class Custom(keras.Model):
        def train_step(self, data):
            x, y = data  # Keras passes (x, y) when there are no sample weights
            with keras.GradientTape() as tape:
                loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply(grads, self.trainable_weights)
            self.steps_seen = getattr(self, "steps_seen", 0) + 1
            return {"loss": loss.data, "doubled": 2 * loss.data}

    inputs = keras.Input((3,))
    model = Custom(inputs, keras.layers.Dense(1)(inputs))
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = rng.standard_normal((20, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    history = model.fit(x, y, batch_size=5, epochs=30, verbose=0)
    assert model.steps_seen == 120
    assert history.history["doubled"][-1] == pytest.approx(2 * history.history["loss"][-1])
    assert history.history["loss"][-1] < 0.01


def test_registered_custom_layer_saves_and_loads(tmp_path):
    @dc.saving.register_keras_serializable(package="Test")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = keras.Sequential([keras.Input((3,)), Scale(3.0), keras.layers.Dense(2)])
    x = rng.standard_normal((4, 3)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    clone = keras.models.model_from_json(model.to_json())
    assert [type(l).__name__ for l in clone.layers] == ["Scale", "Dense"]


def test_crash_during_save_keeps_the_old_file(tmp_path, monkeypatch):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    original = path.read_bytes()
    model.layers[0].kernel.assign(np.ones((3, 2)))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.keras"]


def test_truncated_file_raises_clearly(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="load_model"):
        keras.models.load_model(path)
    with pytest.raises(FileNotFoundError):
        keras.models.load_model(tmp_path / "missing.keras")


def test_functional_resnet_block_trains_and_plots(tmp_path):
    inputs = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.Conv2D(4, 3, padding="same")(h)
    shortcut = keras.layers.Conv2D(4, 1)(inputs)
    h = keras.layers.ReLU()(keras.layers.Add()([h, shortcut]))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inputs, outputs)
    assert model.name.startswith("functional")
    model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy")
    x = rng.standard_normal((32, 8, 8, 3)).astype(np.float32)
    y = (x[..., 0].mean(axis=(1, 2)) > 0).astype(np.int64)
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first
    path = keras.utils.plot_model(model, tmp_path / "graph.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_per_class_metric_arrays_reach_the_logs():
    x, y = rng.standard_normal((30, 4)).astype(np.float32), rng.integers(0, 3, 30)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=[keras.metrics.F1Score(average=None)])
    history = model.fit(x, keras.utils.to_categorical(y, 3), epochs=2, verbose=2)
    assert np.asarray(history.history["f1_score"][-1]).shape == (3,)
    assert keras.models.load_model  # the compile config below serializes the optimizer object
    model.compile(keras.optimizers.Adam(0.003), "mse")
    assert model._compile_config["optimizer"]["config"]["learning_rate"] == pytest.approx(0.003)


def test_save_load_continues_training_identically(tmp_path):
    x, y = rng.standard_normal((48, 5)).astype(np.float32), rng.integers(0, 3, 48)

    def build():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    model = build()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for m in (model, loaded):
        m.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
