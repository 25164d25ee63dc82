"""Datasets as ``keras.datasets``: ``mnist.load_data()``, ``fashion_mnist.load_data()``.

Files are read from ``$DEEPCORE_DATA/<name>/`` (default ``~/.deepcore/datasets/<name>/``);
nothing is downloaded. MNIST falls back to a bundled real-MNIST subset.
"""
from . import fashion_mnist, mnist

__all__ = ["mnist", "fashion_mnist"]
