"""CIFAR-10 small colour images in 10 classes, as ``keras.datasets.cifar10``.

Reads the binary version (``cifar-10-binary.tar.gz``, or the
``cifar-10-batches-bin/`` folder it extracts to, or its six ``.bin`` files)
from ``$DEEPCORE_DATA/cifar10/`` (default ``~/.deepcore/datasets/cifar10/``).
Nothing is bundled and nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .cifar import BinaryDistribution, check_labels, parse_records
from .idx import cache_directory

TRAIN_FILES = [f"data_batch_{number}.bin" for number in range(1, 6)]
TEST_FILE = "test_batch.bin"
DISTRIBUTION = BinaryDistribution("CIFAR-10", archive="cifar-10-binary.tar.gz", folder="cifar-10-batches-bin",
                                  python_names=("cifar-10-python.tar.gz", "cifar-10-batches-py"))


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 32, 32, 3) and uint8 labels (N, 1) in 0..9.

    ``path``: the directory holding the files (default ``$DEEPCORE_DATA/cifar10``); unlike
    Keras, it names a local directory, never a download location.
    """
    directory = cache_directory("cifar10") if path is None else Path(path).expanduser()
    contents = DISTRIBUTION.read(directory, TRAIN_FILES + [TEST_FILE])

    def split(names):
        parts = [parse_records(contents[name], 1, str(directory / name)) for name in names]
        for name, (_, labels) in zip(names, parts):
            check_labels(labels, 10, "class", str(directory / name))
        return np.concatenate([images for images, _ in parts]), np.concatenate([labels for _, labels in parts])

    return split(TRAIN_FILES), split([TEST_FILE])
