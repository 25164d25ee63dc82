"""keras.ops' linear algebra (also reachable as ``dc.ops.linalg.*``), batched over leading axes.

Differentiable: inv, det, slogdet, logdet, solve, solve_triangular, cholesky, norm.
Forward only (their backward raises): qr, svd, eig, eigh, lu_factor, lstsq — their gradients
(Giles 2008; Seeger et al. 2017) are not written yet.
"""
from __future__ import annotations

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module
from .core import constant, floating, operands


def _mT(a):
    return a.swapaxes(-1, -2)


def _square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {a.shape}")


class Inv(Function):
    def forward(self, a):
        self.y = get_array_module(a).linalg.inv(a)
        return self.y

    def backward(self, g):
        yt = _mT(self.y)
        return -(yt @ g @ yt)


class SLogDet(Function):
    """log|det a|; d/da = inv(a)^T."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).linalg.slogdet(a)[1]

    def backward(self, g):
        xp = get_array_module(g)
        return g[..., None, None] * _mT(xp.linalg.inv(self.a))


class Solve(Function):
    def __init__(self, vector, triangle=None):
        self.vector, self.triangle = vector, triangle

    def forward(self, a, b):
        xp = get_array_module(a)
        self.a = a
        self.x = xp.linalg.solve(a, b[..., None] if self.vector else b)
        return self.x[..., 0] if self.vector else self.x

    def backward(self, g):
        xp = get_array_module(g)
        gb = xp.linalg.solve(_mT(self.a), g[..., None] if self.vector else g)
        ga = -(gb @ _mT(self.x))
        if self.triangle == "lower":
            ga = xp.tril(ga)
        elif self.triangle == "upper":
            ga = xp.triu(ga)
        return ga, (gb[..., 0] if self.vector else gb)


class Cholesky(Function):
    """a = L L^T; backward by Murray (2016), eq. 10: sym(L^-T Phi(L^T gL) L^-1), Phi = lower triangle
    with the diagonal halved."""

    def forward(self, a):
        self.L = get_array_module(a).linalg.cholesky(a)
        return self.L

    def backward(self, g):
        xp = get_array_module(g)
        P = xp.tril(_mT(self.L) @ g)
        P = P - 0.5 * xp.eye(P.shape[-1], dtype=P.dtype) * P
        inv_L = xp.linalg.inv(self.L)
        S = _mT(inv_L) @ P @ inv_L
        return 0.5 * (S + _mT(S))


def inv(x):
    a = floating(x)
    _square("inv", a)
    return Inv.apply(a)


def slogdet(x):
    """(sign, log|det x|); the second is differentiable."""
    a = floating(x)
    _square("slogdet", a)
    return constant(get_array_module(a.data).linalg.slogdet(a.data)[0]), SLogDet.apply(a)


def logdet(x):
    """log det x for matrices with a positive determinant (e.g. symmetric positive definite)."""
    return slogdet(x)[1]


def det(x):
    sign, logabs = slogdet(x)
    return A.mul(A.exp(logabs), sign)


def solve(a, b):
    a, b = operands(floating(a), floating(b))
    _square("solve", a)
    vector = b.ndim == 1
    if b.shape[0 if vector else -2] != a.shape[-1]:
        raise ValueError(f"solve: a of shape {a.shape} and b of shape {b.shape} do not match")
    return Solve.apply(a, b, vector=vector)


def solve_triangular(a, b, lower=False):
    a, b = operands(floating(a), floating(b))
    _square("solve_triangular", a)
    xp = get_array_module(a.data)
    a = A.mul(a, xp.tril(xp.ones(a.shape[-2:], a.dtype)) if lower else xp.triu(xp.ones(a.shape[-2:], a.dtype)))
    return Solve.apply(a, b, vector=b.ndim == 1, triangle="lower" if lower else "upper")


def cholesky(x, upper=False):
    a = floating(x)
    _square("cholesky", a)
    L = Cholesky.apply(a)
    return A.transpose(L, tuple(range(L.ndim - 2)) + (L.ndim - 1, L.ndim - 2)) if upper else L


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's argument name
    """Vector norms (ord None/2, 1, inf, -inf, p) and matrix norms ('fro', 1, -1, inf, -inf) as NumPy."""
    from .activations import absolute
    from .numpy_math import power, sqrt
    from .numpy_reduce import max as reduce_max, min as reduce_min, sum as reduce_sum
    x = floating(x)
    axes = tuple(range(x.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    matrix = len(axes) == 2 and (axis is not None or ord is not None)
    if matrix:
        rows, cols = axes
        if ord in (None, "fro"):
            return sqrt(reduce_sum(A.mul(x, x), axis=axes, keepdims=keepdims))
        if ord in (1, -1, np.inf, -np.inf):
            summed = reduce_sum(absolute(x), axis=rows if ord in (1, -1) else cols, keepdims=True)
            pick = reduce_max if ord in (1, np.inf) else reduce_min
            y = pick(summed, axis=axes, keepdims=True)
            return y if keepdims else A.reshape(y, tuple(d for i, d in enumerate(x.shape) if i % x.ndim not in
                                                         {a % x.ndim for a in axes}))
        raise ValueError(f"norm: matrix ord {ord!r} is not supported (use 'fro', 1, -1, inf or -inf)")
    if len(axes) > 1 and axis is not None:
        raise ValueError(f"norm: axis must be an int or a pair of ints, got {axis!r}")
    if ord is None or ord == 2:
        return sqrt(reduce_sum(A.mul(x, x), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return reduce_max(absolute(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return reduce_min(absolute(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return constant((x.data != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype))
    if isinstance(ord, (int, float)) and ord > 0:
        return power(reduce_sum(power(absolute(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)
    raise ValueError(f"norm: vector ord {ord!r} is not supported")


# --- forward only -------------------------------------------------------------------------------

class _ForwardOnly(Function):
    def __init__(self, name, fn, index):
        self.name, self.fn, self.index = name, fn, index

    def forward(self, a):
        return self.fn(get_array_module(a), a)[self.index]

    def backward(self, g):
        raise NotImplementedError(f"{self.name}: the gradient is not implemented in deepcore yet")


def _forward_only(name, fn, count):
    def op(x):
        a = floating(x)
        return tuple(_ForwardOnly.apply(a, name=name, fn=fn, index=i) for i in range(count))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"{name} (forward only: backward raises NotImplementedError)."
    return op


qr = _forward_only("qr", lambda xp, a: xp.linalg.qr(a), 2)
eigh = _forward_only("eigh", lambda xp, a: xp.linalg.eigh(a), 2)
_svd = _forward_only("svd", lambda xp, a: xp.linalg.svd(a, full_matrices=False), 3)
_eig = _forward_only("eig", lambda xp, a: np.linalg.eig(a), 2)


def svd(x, full_matrices=True, compute_uv=True):
    a = floating(x)
    if not compute_uv:
        return _ForwardOnly.apply(a, name="svd", fn=lambda xp, m: (xp.linalg.svd(m, compute_uv=False),), index=0)
    if full_matrices:
        return tuple(_ForwardOnly.apply(a, name="svd", fn=lambda xp, m: xp.linalg.svd(m, full_matrices=True),
                                        index=i) for i in range(3))
    return _svd(a)


def eig(x):
    return _eig(x)


def lstsq(a, b, rcond=None):
    """Least-squares solution of a x = b (forward only)."""
    a, b = operands(floating(a), floating(b))
    xp = get_array_module(a.data)
    return constant(xp.linalg.lstsq(a.data, b.data, rcond=rcond)[0])


def lu_factor(x):
    """(lu, pivots) as scipy.linalg.lu_factor, by partial-pivoting Gaussian elimination (forward only)."""
    a = floating(x)
    _square("lu_factor", a)
    lu = np.array(a.numpy(), dtype=a.dtype)
    n = lu.shape[-1]
    pivots = np.zeros(lu.shape[:-1], dtype="int32")
    for index in np.ndindex(lu.shape[:-2]):
        m = lu[index]
        for k in range(n):
            p = k + int(np.argmax(np.abs(m[k:, k])))
            pivots[index + (k,)] = p
            m[[k, p]] = m[[p, k]]
            if m[k, k] != 0:
                m[k + 1:, k] /= m[k, k]
                m[k + 1:, k + 1:] -= np.outer(m[k + 1:, k], m[k, k + 1:])
    from .core import convert_to_tensor
    return convert_to_tensor(lu), convert_to_tensor(pivots)
