"""A small CNN on CIFAR-10 with data augmentation in both places deepcore offers it:

- the input pipeline (``dc.data.Pipeline``): random crop with 4 pixels of padding, horizontal
  flip, per-channel normalization and cutout, made ahead on a background thread;
- the model (``dc.layers.RandomRotation``): active in ``fit`` only, identity in evaluate/predict.

    .venv/bin/python examples/cifar10_augmented.py [--quick] [--epochs N]

Uses CIFAR-10 from $DEEPCORE_DATA/cifar10/ (the binary version, cifar-10-binary.tar.gz) when
it is there; otherwise it says so and trains on a small synthetic 10-class set.
"""
import argparse

import numpy as np

import deepcore as keras
from deepcore import data
from deepcore.datasets import cifar10
from deepcore.utils import set_random_seed


def synthetic(count, palette, rng):
    """Noisy 32x32 images holding a 12x12 square whose colour (``palette[class]``) is the class."""
    labels = rng.integers(0, 10, count)
    images = rng.integers(0, 100, (count, 32, 32, 3))
    for image, label, (top, left) in zip(images, labels, rng.integers(0, 20, (count, 2))):
        image[top:top + 12, left:left + 12] = palette[label]
    return images.astype(np.uint8), labels[:, None].astype(np.uint8)


def load(quick):
    try:
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
        print(f"CIFAR-10: {len(x_train)} train, {len(x_test)} test images")
    except FileNotFoundError as error:
        print(f"{error}\nTraining on a SYNTHETIC 10-class set instead (coloured squares on noise).")
        rng = np.random.default_rng(0)
        palette = rng.integers(40, 256, (10, 3))
        (x_train, y_train), (x_test, y_test) = synthetic(2000, palette, rng), synthetic(500, palette, rng)
    if quick:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
    return (x_train, y_train), (x_test, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="512 training images, one epoch")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load(args.quick)

    normalize = data.Normalize.from_data(x_train)  # per-channel mean and std of the training set
    train = data.Pipeline(x_train, y_train, batch_size=64, transforms=[
        data.RandomCrop(32, 32, padding=4), data.RandomFlip("horizontal"), normalize, data.Cutout(8)])
    test = data.Pipeline(x_test, y_test, batch_size=256, shuffle=False, transforms=[normalize])

    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.RandomRotation(0.03, fill_mode="constant"),  # up to ±11 degrees, training only
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    epochs = args.epochs or (1 if args.quick else 5)
    # the pipeline shuffles samples itself; fit's shuffle would only reorder batches and stall the prefetch
    model.fit(train, epochs=epochs, validation_data=test, verbose=2)
    loss, accuracy = model.evaluate(test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(x_test)} images after {epochs} epoch(s)")


if __name__ == "__main__":
    main()
