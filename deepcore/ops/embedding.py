"""Embedding lookup: rows of a table by integer id, with a scatter-add backward."""
from __future__ import annotations

from ..autograd.function import Function
from ..backend import get_array_module


class Embedding(Function):
    def __init__(self, ids):
        self.ids = ids

    def forward(self, table):
        self.table_shape = table.shape
        return table[self.ids]

    def backward(self, g):
        xp = get_array_module(g)
        grad = xp.zeros(self.table_shape, dtype=g.dtype)
        rows, flat = self.ids.reshape(-1), g.reshape(-1, g.shape[-1])
        if xp.__name__ == "numpy":
            xp.add.at(grad, rows, flat)
        else:
            grad.scatter_add(rows, flat)
        return grad


def embedding(ids, table):
    """table[ids]: ids of any shape (integers in [0, rows)), table (rows, dim) -> ids.shape + (dim,)."""
    xp = get_array_module(ids)
    if ids.dtype.kind not in "iu":
        if ids.size and bool((ids != xp.round(ids)).any()):
            raise ValueError(f"embedding: ids must be integers, got dtype {ids.dtype} with fractional values")
        ids = ids.astype(xp.int64)
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= table.shape[0]):
        raise ValueError(f"embedding: ids must be in [0, {table.shape[0]}), got values in "
                         f"[{int(ids.min())}, {int(ids.max())}]")
    return Embedding.apply(table, ids=ids)
