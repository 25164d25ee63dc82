"""The slides' CNN on MNIST: Conv 20@5x5 -> max-pool -> Conv 50@5x5 -> max-pool -> Dense 500 -> Dense 10.

    .venv/bin/python examples/mnist_cnn.py [--quick] [--epochs N]

Written with deepcore's own names (``import deepcore as dc``) and plain SGD with momentum, as
in the lecture. Uses the full MNIST when its IDX files are in $DEEPCORE_DATA/mnist/, else the
bundled 4000 / 1000 real-MNIST subset. (examples/mnist_demo.py trains the same network with
Adam and saves it; keras_style_mnist_convnet.py is the Keras guide's version.)
"""
import argparse
import time

import numpy as np

import deepcore as dc
from deepcore.datasets import mnist
from deepcore.utils import set_random_seed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 training images, one epoch")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    set_random_seed(0)

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train.astype(np.float32) / 255.0)[..., None]  # (N, 28, 28, 1), channels_last
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]
    if args.quick:
        x_train, y_train, x_test, y_test = x_train[:500], y_train[:500], x_test[:200], y_test[:200]

    model = dc.Sequential([
        dc.Input((28, 28, 1)),
        dc.layers.Conv2D(20, 5, activation="relu"),   # 24x24x20
        dc.layers.MaxPooling2D(2),                    # 12x12x20
        dc.layers.Conv2D(50, 5, activation="relu"),   # 8x8x50
        dc.layers.MaxPooling2D(2),                    # 4x4x50
        dc.layers.Flatten(),                          # 800
        dc.layers.Dense(500, activation="relu"),
        dc.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=dc.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    epochs = args.epochs or (1 if args.quick else 10)
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_data=(x_test, y_test), verbose=2)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(x_test)} images "
          f"after {epochs} epoch(s), {seconds:.1f} s of training")


if __name__ == "__main__":
    main()
