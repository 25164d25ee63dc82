"""ResNet-20 (He et al. 2016, section 4.2) on CIFAR-10 with the paper's augmentation.

    .venv/bin/python examples/cifar10_resnet20.py [--quick] [--epochs N]

``dc.applications.ResNet20`` trained by SGD with momentum 0.9 and weight decay on batches from
``dc.data.Pipeline``: 4-pixel padding + random 32x32 crop, horizontal flip, per-channel
normalization, made on a background thread. Uses CIFAR-10 from $DEEPCORE_DATA/cifar10/ (the
binary version, cifar-10-binary.tar.gz) when it is there; otherwise it says so and trains on a
small SYNTHETIC 10-class set, whose accuracy says nothing about CIFAR-10. The paper reaches
91.25% after 64k iterations at batch 128 (~160 epochs), far beyond a CPU run: on CIFAR-10 the
default is one epoch; use --epochs N on a GPU.
"""
import argparse
import time

import numpy as np

import deepcore as dc
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
        source = "CIFAR-10"
    except FileNotFoundError as error:
        print(f"{error}\nTraining on a SYNTHETIC 10-class set instead (coloured squares on noise).")
        rng = np.random.default_rng(0)
        palette = rng.integers(40, 256, (10, 3))
        (x_train, y_train), (x_test, y_test) = synthetic(2000, palette, rng), synthetic(300, palette, rng)
        source = "SYNTHETIC"
    if quick:
        x_train, y_train, x_test, y_test = x_train[:128], y_train[:128], x_test[:64], y_test[:64]
    print(f"{source}: {len(x_train)} train, {len(x_test)} test images")
    return source, (x_train, y_train), (x_test, y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 training images, one epoch")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    set_random_seed(0)
    source, (x_train, y_train), (x_test, y_test) = load(args.quick)

    normalize = data.Normalize.from_data(x_train)  # per-channel mean and std of the training set
    # batch 32: BatchNormalization's moving statistics (momentum 0.99, as Keras) need a few hundred
    # steps to forget their initial values; evaluate() uses them, so fewer steps show chance accuracy
    train = data.Pipeline(x_train, y_train, batch_size=32, transforms=[
        data.RandomCrop(32, 32, padding=4), data.RandomFlip("horizontal"), normalize])
    test = data.Pipeline(x_test, y_test, batch_size=256, shuffle=False, transforms=[normalize])

    model = dc.applications.ResNet20(input_shape=(32, 32, 3), classes=10)
    print(f"ResNet-20: {model.count_params():,} parameters")
    model.compile(optimizer=dc.optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=1e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    epochs = args.epochs or (1 if args.quick or source == "CIFAR-10" else 5)  # CIFAR-10: ~8 min/epoch on 2 CPU cores
    start = time.perf_counter()
    model.fit(train, epochs=epochs, validation_data=test, verbose=2)
    seconds = time.perf_counter() - start
    loss, accuracy = model.evaluate(test, verbose=0)
    print(f"{source} test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(x_test)} images "
          f"after {epochs} epoch(s), {seconds:.1f} s of training")


if __name__ == "__main__":
    main()
