"""Keras' guide "Customizing what happens in fit()", run on deepcore.

The Keras 3 (TensorFlow) code with ``import keras`` and ``tf.GradientTape``; here the import is
``import deepcore as keras`` and the tape is ``keras.GradientTape`` (deepcore records every op, the
tape only hands back gradients). tests/keras_scripts/test_keras_scripts.py runs it.
"""
import numpy as np

import deepcore as keras

keras.utils.set_random_seed(1)


class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and on what you pass to `fit()`.
        x, y = data

        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value (the loss function is configured in `compile()`)
            loss = self.compute_loss(y=y, y_pred=y_pred)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply(gradients, trainable_vars)

        # Update metrics (includes the metric that tracks the loss)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)

        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}


# Construct and compile an instance of CustomModel
inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModel(inputs, outputs)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])

# Just use `fit` as usual
x = np.random.random((1000, 32))
y = np.random.random((1000, 1))
first = model.fit(x, y, epochs=3, verbose=0)
print(first.history)
assert set(first.history) == {"loss", "mae"}
assert first.history["loss"][-1] < first.history["loss"][0]


class CustomModelWithOwnTrackers(keras.Model):
    """Going lower-level: the model's own loss function and metric trackers, compiled without a loss."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data

        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            loss = self.loss_fn(y, y_pred)

        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)

        # Compute our own metrics
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        # We list our `Metric` objects here so that `reset_states()` can be called automatically at the start
        # of each epoch or at the start of `evaluate()`.
        return [self.loss_tracker, self.mae_metric]


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModelWithOwnTrackers(inputs, outputs)

# We don't pass a loss or metrics here.
model.compile(optimizer="adam")
own = model.fit(x, y, epochs=5, verbose=0)
print(own.history)
assert own.history["loss"][-1] < own.history["loss"][0]


class CustomModelWithWeights(keras.Model):
    """Supporting sample_weight and class_weight."""

    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data

        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)

        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)

        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


inputs = keras.Input(shape=(32,))
outputs = keras.layers.Dense(1)(inputs)
model = CustomModelWithWeights(inputs, outputs)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
sw = np.random.random((1000, 1))
weighted = model.fit(x, y, sample_weight=sw, epochs=3, verbose=0)
evaluation = model.evaluate(x, y, verbose=0, return_dict=True)
print(weighted.history, evaluation)
assert set(evaluation) == {"loss", "mae"} and evaluation["loss"] < weighted.history["loss"][0] * 2
