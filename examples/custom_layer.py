"""A custom layer, Keras 3 style: subclass ``keras.layers.Layer``, train it, save and reload the model.

    .venv/bin/python examples/custom_layer.py [--quick]

``RBFLayer`` computes exp(-gamma * |x - c_j|^2) for learned centres c_j: weights are created in
``build`` with ``add_weight``, the computation is in ``call``, and ``get_config`` returns every
constructor argument. ``@keras.saving.register_keras_serializable()`` lets ``load_model`` find
the class again. Writes custom_layer.keras in the working directory.
"""
import argparse

import numpy as np

import deepcore as keras


@keras.saving.register_keras_serializable(package="Examples")
class RBFLayer(keras.layers.Layer):
    def __init__(self, units, gamma=1.0, **kwargs):
        super().__init__(**kwargs)
        if units < 1:
            raise ValueError(f"RBFLayer: units must be >= 1, got {units}")
        self.units = units
        self.gamma = gamma

    def build(self, input_shape):
        self.centres = self.add_weight(shape=(self.units, input_shape[-1]), initializer="random_uniform",
                                       trainable=True, name="centres")

    def call(self, inputs):
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2, for every (sample, centre) pair
        ops = keras.ops
        distances = (ops.sum(inputs * inputs, axis=-1, keepdims=True)
                     - 2 * ops.matmul(inputs, ops.transpose(self.centres))
                     + ops.sum(self.centres * self.centres, axis=-1))
        return ops.exp(-self.gamma * distances)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "gamma": self.gamma})
        return config


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)

    # two concentric rings: no linear boundary, easy for radial basis functions
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 1000)
    label = rng.integers(0, 2, 1000)
    radius = np.where(label == 1, 1.0, 0.3) + rng.normal(0, 0.05, 1000)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).astype(np.float32)
    y = label.astype(np.float32)[:, None]

    model = keras.Sequential([
        keras.Input((2,)),
        RBFLayer(16, gamma=2.0),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=5 if args.quick else 40, verbose=0)
    accuracy = model.evaluate(x, y, verbose=0)[1]

    model.save("custom_layer.keras")
    restored = keras.models.load_model("custom_layer.keras")
    assert isinstance(restored.layers[0], RBFLayer) and restored.layers[0].get_config()["units"] == 16
    gap = float(np.abs(restored.predict(x, verbose=0) - model.predict(x, verbose=0)).max())
    print(f"RBF model: training accuracy {accuracy:.4f}; saved and reloaded custom_layer.keras, "
          f"largest prediction difference {gap:.2e}")


if __name__ == "__main__":
    main()
