"""Custom layers the Keras 3 way: add_weight, add_loss, constraints, tracking, training inheritance,
several call arguments, and the functional graph's recorded calls."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers, ops

rng = np.random.default_rng(3)


class Linear(layers.Layer):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True,
                                 name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="b")
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name="count")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_add_weight_shapes_dtypes_and_trainability():
    layer = Linear(3)
    y = layer(np.ones((2, 5), np.float32))
    assert y.shape == (2, 3)
    assert [w.shape for w in layer.weights] == [(5, 3), (3,), ()]
    assert [w.name for w in layer.trainable_weights] == [f"{layer.name}/w", f"{layer.name}/b"]
    assert layer.non_trainable_weights[0].dtype == np.int32
    np.testing.assert_allclose(y.numpy(), np.ones((2, 5)) @ layer.w.numpy())


@pytest.mark.parametrize("shape", [5, (2, -1), (2, 1.5), "kernel", (None, 3)])
def test_add_weight_rejects_bad_shapes_before_creating_anything(shape):
    layer = layers.Layer(name="holder")
    with pytest.raises(ValueError, match="holder.*shape must be a tuple of non-negative ints"):
        layer.add_weight(shape=shape, name="w")
    assert layer.weights == []


def test_add_weight_initializer_regularizer_and_default_initializer():
    layer = layers.Layer()
    w = layer.add_weight((4, 4), regularizer="l2")
    assert np.abs(w.numpy()).max() > 0  # glorot_uniform by default for floats
    assert layer.add_weight((3,), dtype="int32").numpy().tolist() == [0, 0, 0]  # zeros for integers
    c = layer.add_weight((2,), initializer=lambda shape, dtype=None: np.full(shape, 7.0, dtype), name="c")
    assert c.numpy().tolist() == [7, 7]
    np.testing.assert_allclose(float(layer.losses[0].numpy()), 0.01 * (w.numpy() ** 2).sum(), rtol=1e-6)


def test_variables_assigned_as_attributes_and_nested_layers_in_lists_and_dicts_are_tracked():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.scale = dc.Variable(np.ones(3, np.float32), name="scale")
            self.stack = [layers.Dense(3), layers.Dense(3)]
            self.heads = {"a": layers.Dense(2), "b": layers.Dense(1)}

        def call(self, x):
            for layer in self.stack:
                x = layer(x)
            return ops.concatenate([self.heads["a"](x * self.scale), self.heads["b"](x)], axis=-1)

    block = Block()
    assert block(np.ones((2, 3), np.float32)).shape == (2, 3)
    assert len(block.trainable_weights) == 1 + 2 * 4
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 9


def test_add_loss_flows_into_losses_and_is_reset_by_the_next_outer_call():
    class ActivityPenalty(layers.Layer):
        def call(self, inputs):
            self.add_loss(0.5 * ops.sum(ops.square(inputs)))
            return inputs

    class Net(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2, kernel_regularizer="l2")
            self.penalty = ActivityPenalty()

        def call(self, x):
            return self.penalty(self.dense(x))

    net = Net()
    x = np.ones((2, 3), np.float32)
    y = net(x)
    activity = 0.5 * (y.numpy() ** 2).sum()
    assert len(net.losses) == 2  # the add_loss term, then the kernel's L2 penalty
    np.testing.assert_allclose(float(net.losses[0].numpy()), activity, rtol=1e-6)
    net(x)
    assert len(net.losses) == 2  # not accumulated across calls
    with pytest.raises(ValueError, match="add_loss"):
        net.add_loss("not a tensor")


def test_add_loss_trains_through_fit_and_activity_regularizer():
    inputs = dc.Input((4,))
    x = layers.Dense(8, activity_regularizer=dc.regularizers.L2(1e-2))(inputs)
    outputs = layers.Dense(1)(x)
    model = dc.Model(inputs, outputs)
    model.compile("sgd", "mse")
    data, target = rng.standard_normal((32, 4)).astype(np.float32), rng.standard_normal((32, 1)).astype(np.float32)
    model(data)
    assert len(model.losses) == 1
    hidden = model.layers[1](data).numpy()
    np.testing.assert_allclose(float(model.losses[0].numpy()), 1e-2 * (hidden ** 2).sum(), rtol=1e-5)
    loss = model.evaluate(data, target, verbose=0, batch_size=32)
    mse = float(((model.predict(data, verbose=0) - target) ** 2).mean())
    assert loss > mse  # the activity penalty is part of the reported loss


def test_constraints_project_weights_after_each_update():
    layer = layers.Dense(3, kernel_constraint=dc.constraints.MaxNorm(0.5), bias_constraint="non_neg",
                         bias_initializer="ones")
    model = dc.Sequential([dc.Input((4,)), layer])
    model.compile(dc.optimizers.SGD(1.0), "mse")
    x, y = rng.standard_normal((16, 4)).astype(np.float32), -10 * np.ones((16, 3), np.float32)
    model.fit(x, y, epochs=2, verbose=0, batch_size=16)
    assert np.sqrt((layer.kernel.numpy() ** 2).sum(axis=0)).max() <= 0.5 + 1e-6
    assert layer.bias.numpy().min() >= 0
    assert layer.get_config()["kernel_constraint"] == {"class_name": "MaxNorm", "config": {"max_value": 0.5, "axis": 0}}


def test_constraint_formulas():
    w = rng.standard_normal((4, 3))
    norms = np.sqrt((w ** 2).sum(0, keepdims=True))
    np.testing.assert_allclose(dc.constraints.MaxNorm(1.0)(w), w * np.clip(norms, 0, 1) / (1e-7 + norms))
    np.testing.assert_allclose(dc.constraints.UnitNorm()(w), w / (1e-7 + norms))
    np.testing.assert_allclose(dc.constraints.NonNeg()(w), w * (w >= 0))
    np.testing.assert_allclose(dc.constraints.MinMaxNorm(0.5, 1.0, rate=0.5)(w),
                               w * (0.5 * np.clip(norms, 0.5, 1.0) + 0.5 * norms) / (1e-7 + norms))
    with pytest.raises(ValueError, match="unknown constraint"):
        dc.constraints.get("maxnorm")


def test_training_flag_is_inherited_by_nested_calls():
    seen = []

    class Probe(layers.Layer):
        def call(self, inputs, training=None):
            seen.append(training)
            return inputs

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, inputs, training=None):
            return self.probe(inputs)  # training not passed on explicitly

    Outer()(np.ones((1, 2)), training=True)
    Outer()(np.ones((1, 2)))
    assert seen == [True, None]


class Scale(layers.Layer):
    """A layer with two tensor arguments and a flag, Keras 3 style."""

    def build(self, x_shape, y_shape):
        self.alpha = self.add_weight(shape=(x_shape[-1],), initializer="ones", name="alpha")

    def call(self, x, y, negate=False):
        out = x * self.alpha + y
        return -out if negate else out


def test_several_call_arguments_eager_symbolic_and_saved(tmp_path):
    a, b = dc.Input((3,)), dc.Input((3,))
    out = Scale(name="scale")(a, b, negate=True)
    assert out.shape == (None, 3)
    model = dc.Model([a, b], out)
    x, y = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict([x, y], verbose=0), -(x + y), rtol=1e-6)
    dc.saving.register_keras_serializable("test")(Scale)
    path = tmp_path / "scale.keras"
    model.save(path)
    again = dc.models.load_model(path)
    np.testing.assert_allclose(again.predict([x, y], verbose=0), -(x + y), rtol=1e-6)


def test_layer_returning_two_outputs_in_a_functional_model():
    class Split(layers.Layer):
        def call(self, x):
            return x[:, :2], x[:, 2:]

    inputs = dc.Input((5,))
    left, right = Split()(inputs)
    assert left.shape == (None, 2) and right.shape == (None, 3)
    model = dc.Model(inputs, [left, layers.Dense(1)(right)])
    outs = model.predict(np.ones((4, 5), np.float32), verbose=0)
    assert outs[0].shape == (4, 2) and outs[1].shape == (4, 1)


def test_inferred_output_shape_keeps_unknown_time_axis():
    class Double(layers.Layer):
        def call(self, x):
            return ops.concatenate([x, x], axis=1)

    assert Double()(dc.Input((None, 4))).shape == (None, None, 4)
    assert Double()(dc.Input((3, 4))).shape == (None, 6, 4)
