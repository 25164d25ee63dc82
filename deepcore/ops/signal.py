"""keras.ops' signal part: FFTs on (real, imaginary) pairs, window functions, correlate.

Keras represents a complex tensor as a pair (real, imag) of real tensors. The DFT is linear, so
its backward is its adjoint: for y = fft(x) the gradient is n * ifft(g) (and fft(g) / n for the
inverse). rfft and irfft are compositions of these with slicing and Hermitian mirroring.
"""
from __future__ import annotations

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module
from ..backend.device import get_device
from .core import constant, floating, operands


class FFT(Function):
    """(real, imag) -> stacked (2, ...) [real, imag] of the n-D (I)DFT over the last ``rank`` axes."""

    def __init__(self, rank, inverse):
        self.rank, self.inverse = rank, inverse

    def _transform(self, z, inverse):
        xp = get_array_module(z)
        axes = tuple(range(-self.rank, 0))
        return xp.fft.ifftn(z, axes=axes) if inverse else xp.fft.fftn(z, axes=axes)

    def forward(self, real, imag):
        self.size = int(np.prod(real.shape[-self.rank:]))
        y = self._transform(real + 1j * imag, self.inverse)
        return get_array_module(real).stack([y.real, y.imag]).astype(real.dtype)

    def backward(self, g):
        adjoint = self._transform(g[0] + 1j * g[1], not self.inverse)
        adjoint = adjoint / self.size if self.inverse else adjoint * self.size
        return adjoint.real.astype(g.dtype), adjoint.imag.astype(g.dtype)


def _pair(x, name):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{name}: expected a tuple (real, imag) of tensors, got {type(x).__name__}")
    real, imag = operands(floating(x[0]), floating(x[1]))
    if real.shape != imag.shape:
        raise ValueError(f"{name}: real and imaginary parts differ in shape: {real.shape} and {imag.shape}")
    return real, imag


def _fft(x, rank, inverse, name):
    real, imag = _pair(x, name)
    if real.ndim < rank:
        raise ValueError(f"{name}: expected at least {rank} axes, got shape {real.shape}")
    y = FFT.apply(real, imag, rank=rank, inverse=inverse)
    return A.getitem(y, 0), A.getitem(y, 1)


def fft(x):
    return _fft(x, 1, False, "fft")


def fft2(x):
    return _fft(x, 2, False, "fft2")


def ifft2(x):
    return _fft(x, 2, True, "ifft2")


def rfft(x, fft_length=None):
    """The non-negative frequencies (fft_length // 2 + 1) of the DFT of real ``x`` (cropped or zero-padded)."""
    from .numpy_layout import pad
    (x,) = operands(floating(x))
    n = x.shape[-1] if fft_length is None else int(fft_length)
    if x.shape[-1] >= n:
        x = A.getitem(x, (..., slice(0, n)))
    else:
        x = pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])])
    real, imag = fft((x, A.mul(x, 0.0)))
    keep = (..., slice(0, n // 2 + 1))
    return A.getitem(real, keep), A.getitem(imag, keep)


def irfft(x, fft_length=None):
    """The real signal of length fft_length (default 2 * (m - 1)) whose rfft is ``x`` = (real, imag)."""
    from .numpy_layout import concatenate, flip, pad
    real, imag = _pair(x, "irfft")
    m = real.shape[-1]
    n = 2 * (m - 1) if fft_length is None else int(fft_length)
    half = n // 2 + 1
    if m < half:
        widths = [(0, 0)] * (real.ndim - 1) + [(0, half - m)]
        real, imag = pad(real, widths), pad(imag, widths)
    real, imag = A.getitem(real, (..., slice(0, half))), A.getitem(imag, (..., slice(0, half)))
    mirrored = (..., slice(1, n - half + 1))  # X[n - k] = conj(X[k]) fills the negative frequencies
    full_real = concatenate([real, flip(A.getitem(real, mirrored), -1)], axis=-1)
    full_imag = concatenate([imag, A.neg(flip(A.getitem(imag, mirrored), -1))], axis=-1)
    y = FFT.apply(full_real, full_imag, rank=1, inverse=True)
    return A.getitem(y, 0)


def _window(fn, x):
    n = int(x.numpy() if hasattr(x, "numpy") else x)
    return constant(get_device().xp.asarray(fn(n).astype("float32")))


def bartlett(x):
    return _window(np.bartlett, x)


def blackman(x):
    return _window(np.blackman, x)


def hamming(x):
    return _window(np.hamming, x)


def hanning(x):
    return _window(np.hanning, x)


def kaiser(x, beta):
    return _window(lambda n: np.kaiser(n, beta), x)


def correlate(x1, x2, mode="valid"):
    """NumPy's 1-D cross-correlation sum_n a[n + k] v[n] ('valid', 'same' or 'full'), differentiable in both."""
    from .numpy_layout import flip, pad, rearrange
    a, v = operands(floating(x1), floating(x2))
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate: expected two vectors, got shapes {a.shape} and {v.shape}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    if v.shape[0] > a.shape[0]:  # NumPy swaps the operands and reverses the result
        return flip(correlate(v, a, mode), 0)
    k = v.shape[0]
    left = {"valid": 0, "same": k // 2, "full": k - 1}[mode]
    right = {"valid": 0, "same": k - 1 - k // 2, "full": k - 1}[mode]
    padded = pad(a, [(left, right)])
    windows = np.arange(padded.shape[0] - k + 1)[:, None] + np.arange(k)
    xp = get_array_module(a.data)
    return A.matmul(rearrange(padded, lambda p: p[xp.asarray(windows)]), A.reshape(v, (k, 1)))[:, 0]
