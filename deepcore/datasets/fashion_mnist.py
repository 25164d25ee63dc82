"""Fashion-MNIST clothing images, as ``keras.datasets.fashion_mnist``.

Reads the four IDX files (same names as MNIST's) from
``$DEEPCORE_DATA/fashion_mnist/`` (default ``~/.deepcore/datasets/fashion_mnist/``).
Nothing is bundled and nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

from .idx import cache_directory, load_image_classification
from .mnist import FILES


def load_data(path=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 28, 28) and uint8 labels 0..9.

    ``path``: the directory holding the IDX files (default ``$DEEPCORE_DATA/fashion_mnist``).
    """
    directory = cache_directory("fashion_mnist") if path is None else Path(path).expanduser()
    loaded = load_image_classification(directory, FILES, image_shape=(28, 28))
    if loaded is None:
        raise FileNotFoundError(
            f"Fashion-MNIST IDX files not found in {directory}: put "
            f"{', '.join(name + '.gz' for name in FILES.values())} there "
            f"(from https://github.com/zalandoresearch/fashion-mnist); deepcore never downloads.")
    return loaded
