"""Shape ops: flatten and reshape keep the batch axis."""
from __future__ import annotations

from ..autograd import arithmetic as A


def flatten(x):
    """(N, ...) -> (N, prod(...))."""
    return A.reshape(x, (x.shape[0], -1))


def reshape(x, shape):
    return A.reshape(x, shape)
