"""CIFAR-100 small colour images in 100 classes (20 superclasses), as ``keras.datasets.cifar100``.

Reads the binary version (``cifar-100-binary.tar.gz``, or the
``cifar-100-binary/`` folder it extracts to, or its ``train.bin`` and
``test.bin``) from ``$DEEPCORE_DATA/cifar100/`` (default
``~/.deepcore/datasets/cifar100/``). Nothing is bundled and nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

from .cifar import BinaryDistribution, check_labels, parse_records
from .idx import cache_directory

FILES = {"train": "train.bin", "test": "test.bin"}
DISTRIBUTION = BinaryDistribution("CIFAR-100", archive="cifar-100-binary.tar.gz", folder="cifar-100-binary",
                                  python_names=("cifar-100-python.tar.gz", "cifar-100-python"))
# each record starts with the coarse (superclass) label byte, then the fine label byte
LABEL_COLUMNS = {"coarse": (0, 20), "fine": (1, 100)}


def load_data(label_mode="fine", path=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (N, 32, 32, 3) and uint8 labels (N, 1).

    ``label_mode``: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses), as Keras.
    ``path``: the directory holding the files (default ``$DEEPCORE_DATA/cifar100``).
    """
    if label_mode not in LABEL_COLUMNS:
        raise ValueError(f"cifar100.load_data: label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    directory = cache_directory("cifar100") if path is None else Path(path).expanduser()
    contents = DISTRIBUTION.read(directory, list(FILES.values()))
    column, classes = LABEL_COLUMNS[label_mode]
    splits = []
    for name in FILES.values():
        images, labels = parse_records(contents[name], 2, str(directory / name))
        for mode, (index, count) in LABEL_COLUMNS.items():
            check_labels(labels[:, index], count, mode, str(directory / name))
        splits.append((images, labels[:, column:column + 1].copy()))
    return tuple(splits)
