"""A multilayer perceptron on MNIST: Flatten -> Dense 256 -> Dropout -> Dense 128 -> Dense 10.

    .venv/bin/python examples/mnist_mlp.py [--quick] [--epochs N]

Uses the full MNIST when its IDX files are in $DEEPCORE_DATA/mnist/, else the bundled
4000 / 1000 real-MNIST subset (deepcore.datasets.mnist.load_data() warns which).
"""
import argparse

import numpy as np

import deepcore as keras
from deepcore.datasets import mnist
from deepcore.utils import set_random_seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 training images, one epoch")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train.astype(np.float32) / 255.0  # (N, 28, 28) in [0, 1]
    x_test = x_test.astype(np.float32) / 255.0
    if args.quick:
        x_train, y_train = x_train[:1000], y_train[:1000]
    print(f"MNIST: {len(x_train)} train, {len(x_test)} test images")

    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    epochs = args.epochs or (1 if args.quick else 15)
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(x_test)} images after {epochs} epoch(s)")


if __name__ == "__main__":
    main()
