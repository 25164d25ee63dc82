"""Train the seed CNN (LeNet-style, two conv + two dense layers) on MNIST with the Keras API.

    make demo        # or: .venv/bin/python examples/mnist_demo.py

Uses the full MNIST when its IDX files are in $DEEPCORE_DATA/mnist/, else the
bundled 4000 / 1000 real-MNIST subset. Writes runs/mnist_cnn.keras and
runs/mnist_cnn_history.png.
"""
import time
from pathlib import Path

import numpy as np

import deepcore as keras
from deepcore.backend import get_device
from deepcore.datasets import mnist
from deepcore.utils import plot_history, set_random_seed

EPOCHS = 8
BATCH_SIZE = 64
VALIDATION_SPLIT = 0.1
RUNS = Path("runs")


def main():
    set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    # uint8 (N, 28, 28) -> float32 in [0, 1] with a channel axis: (N, 28, 28, 1), channels_last.
    x_train = (x_train.astype(np.float32) / 255.0)[..., None]
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]
    print(f"MNIST: {len(x_train)} train, {len(x_test)} test images; device {get_device().name}")

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(20, 5, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(50, 5, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(500, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()

    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,
                        validation_split=VALIDATION_SPLIT, verbose=1)
    fit_seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)

    trained_images = EPOCHS * (len(x_train) - int(len(x_train) * VALIDATION_SPLIT))
    print(f"test accuracy {test_accuracy:.4f} (loss {test_loss:.4f}) on {len(x_test)} images")
    print(f"fit wall time {fit_seconds:.1f} s, {trained_images / fit_seconds:.0f} training images/s "
          f"(time includes the per-epoch validation)")

    RUNS.mkdir(exist_ok=True)
    model.save(RUNS / "mnist_cnn.keras")
    print(f"saved {RUNS / 'mnist_cnn.keras'}")
    try:
        print(f"saved {plot_history(history, RUNS / 'mnist_cnn_history.png')}")
    except ImportError as error:  # matplotlib is an optional extra
        print(f"skipped the training-curve plot: {error}")


if __name__ == "__main__":
    main()
