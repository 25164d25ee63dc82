"""Data-parallel MNIST: the same script on every process, each computing on its part of every batch.

    deepcore launch -n 2 examples/distributed_mnist.py      # or: mpiexec -n 2 python examples/distributed_mnist.py
    python examples/distributed_mnist.py                    # one process: the same training

Needs `pip install 'deepcore[distributed]'` for more than one process. Uses the full MNIST when its IDX
files are in $DEEPCORE_DATA/mnist/, else the bundled 4000 / 1000 subset. Rank 0 prints the progress,
the test accuracy and the throughput, and writes runs/distributed_mnist.keras.
"""
import os
import time
from pathlib import Path

import numpy as np

import deepcore as keras
from deepcore.datasets import mnist
from deepcore.utils import set_random_seed

EPOCHS = int(os.environ.get("EPOCHS", 3))
BATCH_SIZE = 128  # the global batch: each of N processes computes on BATCH_SIZE / N samples per step


def main():
    strategy = keras.distribute.DataParallel()
    set_random_seed(0)  # the same data everywhere; rank 0's weights and shuffles are used by all
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train.astype(np.float32) / 255.0)[..., None]
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]

    with strategy.scope():
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(20, 5, use_bias=False),
            keras.layers.BatchNormalization(momentum=0.9, synchronized=True),  # statistics of the global batch
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(50, 5, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(500, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=BATCH_SIZE, verbose=0)  # sharded too
    if strategy.is_chief:
        print(f"{strategy.size} process(es): test accuracy {test_accuracy:.4f} (loss {test_loss:.4f}); "
              f"{EPOCHS * len(x_train) / seconds:.0f} training images/s over {seconds:.1f} s")
    Path("runs").mkdir(exist_ok=True)
    model.save("runs/distributed_mnist.keras")  # rank 0 writes; the other ranks skip


if __name__ == "__main__":
    main()
