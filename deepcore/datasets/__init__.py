"""Datasets as ``keras.datasets``: ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100`` ``.load_data()``.

Files are read from ``$DEEPCORE_DATA/<name>/`` (default ``~/.deepcore/datasets/<name>/``);
nothing is downloaded. MNIST falls back to a bundled real-MNIST subset.
"""
from . import cifar10, cifar100, fashion_mnist, mnist

__all__ = ["mnist", "fashion_mnist", "cifar10", "cifar100"]
