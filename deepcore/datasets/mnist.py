"""MNIST handwritten digits, as ``keras.datasets.mnist``.

Reads the four standard IDX files from ``$DEEPCORE_DATA/mnist/`` (default
``~/.deepcore/datasets/mnist/``). Without them it returns the bundled subset
of real MNIST (4000 train / 1000 test images, built by
``scripts/build_mnist_subset.py``) and warns once. Nothing is downloaded.
MNIST (Yann LeCun, Corinna Cortes, Christopher Burges) is CC BY-SA 3.0.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .idx import cache_directory, load_image_classification

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
SUBSET = Path(__file__).parent / "data" / "mnist_subset.npz"
_warned = False


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28) and uint8 labels 0..9.

    ``path``: the directory holding the IDX files (default ``$DEEPCORE_DATA/mnist``);
    unlike Keras, it names a directory of IDX files, not an ``.npz`` to download.
    """
    directory = cache_directory("mnist") if path is None else Path(path).expanduser()
    loaded = load_image_classification(directory, FILES, image_shape=(28, 28))
    if loaded is not None:
        return loaded
    _warn_subset(directory)
    with np.load(SUBSET, allow_pickle=False) as subset:
        return (subset["x_train"], subset["y_train"]), (subset["x_test"], subset["y_test"])


def _warn_subset(directory: Path) -> None:
    global _warned
    if _warned:
        return
    _warned = True
    warnings.warn(f"MNIST IDX files not found in {directory}; using the bundled subset "
                  f"(4000 train / 1000 test images). For the full 60000 / 10000, put "
                  f"{', '.join(name + '.gz' for name in FILES.values())} there "
                  f"(or set DEEPCORE_DATA to a folder holding an mnist/ subfolder).", stacklevel=3)
