"""Transfer learning on the bundled MNIST: pretrain on digits 0-4, reuse the conv base for 5-9.

    .venv/bin/python examples/transfer_learning.py [--quick]

The Keras transfer-learning workflow, at MNIST size:
1. train a small CNN on digits 0-4 (the "pretrained" model);
2. freeze its convolutional base (``base.trainable = False``), put a new 5-way head on it and
   train only the head on digits 5-9, from a few hundred images;
3. unfreeze the base and fine-tune everything with a 10x lower learning rate.
Recompile after changing ``trainable``, as in Keras.
"""
import argparse

import numpy as np

import deepcore as keras
from deepcore.datasets import mnist
from deepcore.utils import set_random_seed


def split(x, y, digits):
    keep = np.isin(y, digits)
    return x[keep], (y[keep] - digits[0]).astype(np.int64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, one epoch per stage")
    args = parser.parse_args()
    set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = (x_train.astype(np.float32) / 255.0)[..., None]
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]
    low, high = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]
    (xa, ya), (xa_test, ya_test) = split(x_train, y_train, low), split(x_test, y_test, low)
    (xb, yb), (xb_test, yb_test) = split(x_train, y_train, high), split(x_test, y_test, high)
    xb, yb = xb[:300], yb[:300]  # the new task has little labelled data
    if args.quick:
        xa, ya = xa[:600], ya[:600]
    epochs = 1 if args.quick else 4

    base = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
    ], name="conv_base")
    pretrained = keras.Sequential([base, keras.layers.Dense(5, activation="softmax")])
    pretrained.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    pretrained.fit(xa, ya, batch_size=64, epochs=epochs, verbose=2)
    print(f"stage 1, digits 0-4: test accuracy {pretrained.evaluate(xa_test, ya_test, verbose=0)[1]:.4f}")

    base.trainable = False  # freeze: its weights move to non_trainable_weights
    model = keras.Sequential([base, keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(5, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    frozen = [w.numpy().copy() for w in base.weights]
    model.fit(xb, yb, batch_size=32, epochs=2 * epochs, verbose=2)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, base.weights)), "frozen base moved"
    print(f"stage 2, digits 5-9, new head on the frozen base ({len(model.trainable_weights)} trainable "
          f"tensors): test accuracy {model.evaluate(xb_test, yb_test, verbose=0)[1]:.4f}")

    base.trainable = True  # unfreeze and fine-tune everything, gently
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(xb, yb, batch_size=32, epochs=epochs, verbose=2)
    print(f"stage 3, digits 5-9, fine-tuned end to end: "
          f"test accuracy {model.evaluate(xb_test, yb_test, verbose=0)[1]:.4f}")


if __name__ == "__main__":
    main()
