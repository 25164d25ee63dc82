"""What a custom train_step sees, as Keras 3: (x, y) batches, sample weights only when given,
model.metrics, compile without a loss when add_loss supplies one."""
import numpy as np
import pytest

import deepcore as dc

rng = np.random.default_rng(8)


def test_unpack_and_pack_x_y_sample_weight():
    unpack = dc.utils.unpack_x_y_sample_weight
    assert unpack("x") == ("x", None, None) and unpack(("x",)) == ("x", None, None)
    assert unpack(("x", "y")) == ("x", "y", None) and unpack(["x", "y", "w"]) == ("x", "y", "w")
    assert dc.utils.pack_x_y_sample_weight("x", "y") == ("x", "y")
    with pytest.raises(ValueError, match="expected x"):
        unpack((1, 2, 3, 4))


def test_train_step_gets_pairs_and_triples_and_metrics_are_named_as_given():
    seen = []

    class Recorder(dc.Model):
        def train_step(self, data):
            seen.append(len(data))
            return super().train_step(data)

    inputs = dc.Input((3,))
    model = Recorder(inputs, dc.layers.Dense(1)(inputs))
    model.compile("sgd", "mse", metrics=["mae"])
    x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)
    history = model.fit(x, y, batch_size=8, verbose=0)
    model.fit(x, y, sample_weight=np.ones(8), batch_size=8, verbose=0)
    assert seen == [2, 3] and set(history.history) == {"loss", "mae"}
    assert [m.name for m in model.metrics] == ["loss", "mae"]


def test_compile_without_a_loss():
    class Penalized(dc.layers.Layer):
        def call(self, x):
            self.add_loss(dc.ops.mean(dc.ops.square(x)))
            return x

    inputs = dc.Input((3,))
    model = dc.Model(inputs, Penalized()(dc.layers.Dense(3)(inputs)))
    model.compile("sgd")
    x = rng.standard_normal((16, 3)).astype(np.float32)
    history = model.fit(x, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    plain = dc.Model(inputs, dc.layers.Dense(1)(inputs))
    plain.compile("sgd")
    with pytest.raises(ValueError, match="no loss to compute"):
        plain.fit(x, np.zeros((16, 1)), verbose=0)
