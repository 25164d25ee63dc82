"""The process-wide random generator behind initializers, dropout and shuffling."""
from __future__ import annotations

import random as _python_random

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed: int) -> None:
    """Seed every source of randomness deepcore uses (and Python's and NumPy's legacy ones)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"set_random_seed: expected an int seed, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    _python_random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)


def generator() -> np.random.Generator:
    """The NumPy generator to draw from (host side; results are moved to the device by callers)."""
    return _generator


def set_generator(rng: np.random.Generator) -> None:
    """Swap the process-wide generator (``dc.random.dropout(seed=...)`` borrows it for one draw)."""
    global _generator
    _generator = rng


def truncated_standard_normal(rng: np.random.Generator, shape, dtype=np.float32) -> np.ndarray:
    """Unit normal values, each redrawn until it lies within two standard deviations."""
    values = rng.standard_normal(shape, dtype=dtype)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()), dtype=dtype)
        outside = np.abs(values) > 2
    return values
