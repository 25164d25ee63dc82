"""keras.ops' products: matmul, dot, tensordot, einsum, inner, outer, vdot, cross, kron.

``einsum`` is the general one: its backward for operand i is another einsum of the output
gradient with the other operands, written to operand i's subscripts (letters summed inside
operand i alone come back by broadcasting). The others are compositions of reshape,
transpose and matmul, whose gradients already exist.
"""
from __future__ import annotations

import string

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module
from .core import operands
from .shape import broadcast_to


def _check_matmul(name, a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{name}: operands must have at least one axis, got shapes {a.shape} and {b.shape}")
    inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    batch_ok = True
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        batch_ok = False
    if inner_a != inner_b or not batch_ok:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} are not aligned (inner sizes {inner_a} and "
                         f"{inner_b}, batch axes {a.shape[:-2]} and {b.shape[:-2]})")


def matmul(x1, x2):
    """NumPy's matmul: 1-D operands are promoted to matrices and the added axis is dropped again."""
    a, b = operands(x1, x2)
    _check_matmul("matmul", a, b)
    a2 = A.reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = A.reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    y = A.matmul(a2, b2)
    if a.ndim == 1:
        y = A.reshape(y, y.shape[:-2] + y.shape[-1:])
    if b.ndim == 1:
        y = A.reshape(y, y.shape[:-1])
    return y


def tensordot(x1, x2, axes=2):
    a, b = operands(x1, x2)
    if isinstance(axes, int):
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        axes_a, axes_b = ([axes[0]] if isinstance(axes[0], int) else list(axes[0]),
                          [axes[1]] if isinstance(axes[1], int) else list(axes[1]))
    axes_a, axes_b = [x % a.ndim for x in axes_a], [x % b.ndim for x in axes_b]
    if len(axes_a) != len(axes_b) or any(a.shape[i] != b.shape[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError(f"tensordot: axes {axes} do not pair equal sizes of {a.shape} and {b.shape}")
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    k = int(np.prod([a.shape[i] for i in axes_a]))
    left = A.reshape(A.transpose(a, tuple(free_a + axes_a)), (-1, k))
    right = A.reshape(A.transpose(b, tuple(axes_b + free_b)), (k, -1))
    return A.reshape(A.matmul(left, right), tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b))


def dot(x1, x2):
    """NumPy's dot: scalars multiply, vectors give the inner product, otherwise the last axis of x1
    meets the second-to-last of x2."""
    a, b = operands(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return A.mul(a, b)
    if b.ndim <= 2:
        return matmul(a, b)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned")
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def inner(x1, x2):
    a, b = operands(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return A.mul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(x1, x2):
    a, b = operands(x1, x2)
    return A.mul(A.reshape(a, (-1, 1)), A.reshape(b, (1, -1)))


def vdot(x1, x2):
    a, b = operands(x1, x2)
    if a.size != b.size:
        raise ValueError(f"vdot: inputs of sizes {a.size} and {b.size}")
    return A.sum(A.mul(A.reshape(a, (-1,)), A.reshape(b, (-1,))))


def kron(x1, x2):
    a, b = operands(x1, x2)
    if a.ndim != b.ndim:
        raise ValueError(f"kron: inputs of equal rank expected, got {a.shape} and {b.shape}")
    n = a.ndim
    interleaved = A.mul(A.reshape(a, tuple(d for s in a.shape for d in (s, 1))),
                        A.reshape(b, tuple(d for s in b.shape for d in (1, s))))
    return A.reshape(interleaved, tuple(a.shape[i] * b.shape[i] for i in range(n)))


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (2-vectors are padded with a zero z, as NumPy)."""
    from .numpy_layout import moveaxis, pad, stack
    a, b = operands(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got shapes {a.shape} and {b.shape}")
    a = a if a.shape[-1] == 3 else pad(a, [(0, 0)] * (a.ndim - 1) + [(0, 1)])
    b = b if b.shape[-1] == 3 else pad(b, [(0, 0)] * (b.ndim - 1) + [(0, 1)])
    c = [A.getitem(t, (..., i)) for t in (a, b) for i in range(3)]
    a0, a1, a2, b0, b1, b2 = c
    y = stack([A.sub(A.mul(a1, b2), A.mul(a2, b1)), A.sub(A.mul(a2, b0), A.mul(a0, b2)),
               A.sub(A.mul(a0, b1), A.mul(a1, b0))], axis=-1)
    return moveaxis(y, -1, axisc)


# --- einsum ----------------------------------------------------------------------------------

def _parse(subscripts, tensors):
    """Explicit subscripts (no ellipsis) for every operand and the output, and each letter's size."""
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(tensors):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operands, got {len(tensors)}")
    used = set(spec) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    ranks = [t.ndim - len(term.replace("...", "")) for term, t in zip(terms, tensors)]
    if any(r < 0 or (r > 0 and "..." not in term) for r, term in zip(ranks, terms)):
        raise ValueError(f"einsum: subscripts {subscripts!r} do not match operand shapes "
                         f"{[t.shape for t in tensors]}")
    ellipsis = "".join(free[:max(ranks, default=0)])
    terms = [term.replace("...", ellipsis[len(ellipsis) - r:] if r else "") for term, r in zip(terms, ranks)]
    if not arrow:
        counts = {c: "".join(terms).count(c) for c in "".join(terms)}
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis))
    else:
        output = output.replace("...", ellipsis)
    sizes = {}
    for term, t in zip(terms, tensors):
        for c, n in zip(term, t.shape):
            if sizes.get(c, 1) != 1 and n not in (1, sizes[c]):
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n} in {subscripts!r} for "
                                 f"shapes {[t.shape for t in tensors]}")
            sizes[c] = max(sizes.get(c, 1), n)
    return terms, output, sizes


class Einsum(Function):
    def __init__(self, terms, output):
        self.terms, self.output = terms, output

    def forward(self, *arrays):
        self.arrays = arrays
        return get_array_module(*arrays).einsum(f"{','.join(self.terms)}->{self.output}", *arrays)

    def backward(self, g):
        xp = get_array_module(g)
        grads = []
        for i, (term, array) in enumerate(zip(self.terms, self.arrays)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(self.terms) if j != i]
            present = set(self.output).union(*others) if others else set(self.output)
            target = "".join(c for c in dict.fromkeys(term) if c in present)
            spec = ",".join([self.output] + others) + "->" + target
            partial = xp.einsum(spec, g, *[a for j, a in enumerate(self.arrays) if j != i])
            view = tuple(partial.shape[target.index(c)] if c in target else 1 for c in term)
            grads.append(xp.broadcast_to(partial.reshape(view), array.shape).astype(g.dtype, copy=True))
        return tuple(grads)


def einsum(subscripts, *operands_):
    """NumPy's einsum, differentiable; size-1 axes broadcast as in NumPy."""
    tensors = operands(*operands_)
    terms, output, sizes = _parse(subscripts, tensors)
    for term in terms:
        if len(set(term)) != len(term):
            raise ValueError(f"einsum: a subscript repeated within one operand ({term!r}) is not supported")
    tensors = [t if t.shape == tuple(sizes[c] for c in term) else broadcast_to(t, tuple(sizes[c] for c in term))
               for t, term in zip(tensors, terms)]
    common = np.result_type(*[t.dtype for t in tensors])
    tensors = [t if t.dtype == common else A.cast(t, common) for t in tensors]
    return Einsum.apply(*tensors, terms=terms, output=output)
