"""Keras' guide "Making new layers and models via subclassing", run on deepcore.

The only difference from the Keras 3 code is the first import (``import keras``). Runs as a
script; tests/keras_scripts/test_keras_scripts.py runs it and checks what it leaves behind.
"""
import os
import tempfile

import numpy as np

import deepcore as keras


@keras.saving.register_keras_serializable(package="MyLayers")
class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


x = keras.ops.ones((2, 2))
linear_layer = Linear(4)
y = linear_layer(x)
print(y)
assert y.shape == (2, 4) and len(linear_layer.weights) == 2


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(keras.ops.sum(inputs, axis=0))
        return self.total


x = keras.ops.ones((2, 2))
my_sum = ComputeSum(2)
y = my_sum(x)
y = my_sum(x)
print(y.numpy())
assert y.numpy().tolist() == [4.0, 4.0]
print("weights:", len(my_sum.weights), "non-trainable weights:", len(my_sum.non_trainable_weights))
assert len(my_sum.trainable_weights) == 0


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = Linear(32)
        self.linear_2 = Linear(32)
        self.linear_3 = Linear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


mlp = MLPBlock()
y = mlp(keras.ops.ones(shape=(3, 64)))  # The first call to the `mlp` will create the weights
print("weights:", len(mlp.weights))
print("trainable weights:", len(mlp.trainable_weights))
assert len(mlp.weights) == 6


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * keras.ops.mean(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


layer = OuterLayer()
assert len(layer.losses) == 0  # No losses yet since the layer has never been called
_ = layer(keras.ops.zeros((1, 1)))
assert len(layer.losses) == 1  # We created one loss value
_ = layer(keras.ops.zeros((1, 1)))
assert len(layer.losses) == 1  # This is the loss created during the call above


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


layer = OuterLayerWithKernelRegularizer()
_ = layer(keras.ops.zeros((1, 1)))
print(layer.losses)
assert len(layer.losses) == 1

inputs = keras.Input(shape=(3,))
outputs = ActivityRegularizationLayer()(Linear(3)(inputs))
model = keras.Model(inputs, outputs)
# If there is a loss passed in `compile`, the regularization losses get added to it
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)
# It's also possible not to pass any loss in `compile`, since the model already has a loss to minimize,
# via the `add_loss` call during the forward pass!
model.compile(optimizer="adam")
model.fit(np.random.random((2, 3)), np.random.random((2, 3)), verbose=0)

# A linear regression learned with fit, saved and loaded back
rng = np.random.default_rng(0)
x_train = rng.normal(size=(256, 4)).astype("float32")
true_w = np.array([[1.5], [-2.0], [0.5], [3.0]], dtype="float32")
y_train = x_train @ true_w + 0.7 + 0.01 * rng.normal(size=(256, 1)).astype("float32")

inputs = keras.Input(shape=(4,))
outputs = Linear(1)(inputs)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.05), loss="mse")
history = model.fit(x_train, y_train, batch_size=32, epochs=40, verbose=0)
final_loss = history.history["loss"][-1]
learned_w, learned_b = (w.numpy() for w in model.layers[1].weights)
print(f"final loss {final_loss:.5f}; w {learned_w.ravel()}; b {learned_b}")

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "linear.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
reloaded_predictions = reloaded.predict(x_train[:8], verbose=0)
np.testing.assert_allclose(reloaded_predictions, model.predict(x_train[:8], verbose=0), rtol=1e-6)
config = Linear(8).get_config()
assert Linear.from_config(config).units == 8
