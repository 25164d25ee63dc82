"""Activation functions as differentiable ops."""
from __future__ import annotations

from ..autograd import arithmetic as A
from ..autograd.function import Function
from ..backend import get_array_module, kernels


class ReLU(Function):
    def forward(self, x):
        self.y = kernels(x).relu_forward(x)
        return self.y

    def backward(self, g):
        return kernels(g).relu_backward(g, self.y)


class LeakyReLU(Function):
    def __init__(self, negative_slope):
        self.negative_slope = negative_slope

    def forward(self, x):
        self.positive = x > 0
        return get_array_module(x).where(self.positive, x, x * self.negative_slope)

    def backward(self, g):
        return get_array_module(g).where(self.positive, g, g * self.negative_slope)


class Sigmoid(Function):
    def forward(self, x):
        xp = get_array_module(x)
        # 1 / (1 + exp(-x)) written through tanh so large |x| never overflows exp
        self.y = 0.5 * (xp.tanh(0.5 * x) + 1)
        return self.y.astype(x.dtype, copy=False)

    def backward(self, g):
        return g * self.y * (1 - self.y)


class Tanh(Function):
    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, g):
        return g * (1 - self.y * self.y)


class Softmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        if self.axis in (-1, x.ndim - 1):
            self.y = kernels(x).softmax_forward(x)
            return self.y
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, g):
        gy = g * self.y
        return gy - self.y * gy.sum(axis=self.axis, keepdims=True)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras' ``relu(x, negative_slope, max_value, threshold)``; plain max(x, 0) takes the fast kernel."""
    if negative_slope == 0 and max_value is None and threshold == 0:
        return ReLU.apply(x)
    return GeneralReLU.apply(x, negative_slope=negative_slope, max_value=max_value, threshold=threshold)


def leaky_relu(x, negative_slope=0.2):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x):
    return Sigmoid.apply(x)


def tanh(x):
    return Tanh.apply(x)


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=axis)


def linear(x):
    return x


# --- the rest of Keras' activations -------------------------------------------------------------

class _Elementwise(Function):
    """y = value(x); dy/dx = slope(x, y). Subclasses give the two formulas."""

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        self.y = self.value(xp, x).astype(x.dtype, copy=False)
        return self.y

    def backward(self, g):
        return g * self.slope(get_array_module(g), self.x, self.y)


def _sigmoid(xp, x):
    return 0.5 * (xp.tanh(0.5 * x) + 1)


def _erf(x):
    xp = get_array_module(x)
    if xp.__name__ == "numpy":
        return _numpy_erf(x)
    from cupyx.scipy.special import erf
    return erf(x)


_numpy_erf_ufunc = None


def _numpy_erf(x):
    global _numpy_erf_ufunc
    if _numpy_erf_ufunc is None:  # compiled on first use only: most programs never call gelu
        import math

        import numba
        _numpy_erf_ufunc = numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)(
            lambda v: math.erf(v))
    return _numpy_erf_ufunc(x)


class GeneralReLU(_Elementwise):
    """Keras' relu: clip(x * (x > threshold), 0, max_value) - negative_slope * max(threshold - x, 0)."""

    def __init__(self, negative_slope=0.0, max_value=None, threshold=0.0):
        self.negative_slope, self.max_value, self.threshold = negative_slope, max_value, threshold

    def value(self, xp, x):
        y = xp.where(x > self.threshold, x, 0)
        if self.max_value is not None:
            y = xp.clip(y, 0, self.max_value)
        if self.negative_slope:
            y = y - self.negative_slope * xp.maximum(self.threshold - x, 0)
        return y

    def slope(self, xp, x, y):
        inside = x > self.threshold
        if self.max_value is not None:
            inside &= (x > 0) & (x < self.max_value)
        return inside + self.negative_slope * (x < self.threshold)


class ELU(_Elementwise):
    def __init__(self, alpha=1.0, scale=1.0):
        self.alpha, self.scale = alpha, scale

    def value(self, xp, x):
        return self.scale * xp.where(x > 0, x, self.alpha * xp.expm1(xp.minimum(x, 0)))

    def slope(self, xp, x, y):
        return xp.where(x > 0, self.scale, y + self.scale * self.alpha)


class Softplus(_Elementwise):
    def value(self, xp, x):
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def slope(self, xp, x, y):
        return _sigmoid(xp, x)


class Softsign(_Elementwise):
    def value(self, xp, x):
        return x / (1 + xp.abs(x))

    def slope(self, xp, x, y):
        return 1 / (1 + xp.abs(x)) ** 2


class SiLU(_Elementwise):
    def value(self, xp, x):
        return x * _sigmoid(xp, x)

    def slope(self, xp, x, y):
        s = _sigmoid(xp, x)
        return s * (1 + x * (1 - s))


class HardSigmoid(_Elementwise):
    """Keras 3: relu6(x + 3) / 6 (Keras 2 used 0.2 x + 0.5)."""

    def value(self, xp, x):
        return xp.clip(x / 6 + 0.5, 0, 1)

    def slope(self, xp, x, y):
        return ((x > -3) & (x < 3)) / 6


class HardSiLU(_Elementwise):
    def value(self, xp, x):
        return x * xp.clip(x / 6 + 0.5, 0, 1)

    def slope(self, xp, x, y):
        return xp.clip(x / 6 + 0.5, 0, 1) + ((x > -3) & (x < 3)) * x / 6


class GELU(_Elementwise):
    """x * Phi(x); approximate=True uses Hendrycks & Gimpel's tanh form."""

    def __init__(self, approximate=False):
        self.approximate = approximate

    def value(self, xp, x):
        if self.approximate:
            return 0.5 * x * (1 + xp.tanh(_GELU_C * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1 + _erf(x / 2 ** 0.5))

    def slope(self, xp, x, y):
        if self.approximate:
            t = xp.tanh(_GELU_C * (x + 0.044715 * x ** 3))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * x * x)
        return 0.5 * (1 + _erf(x / 2 ** 0.5)) + x * xp.exp(-0.5 * x * x) / (2 * 3.141592653589793) ** 0.5


class Abs(_Elementwise):
    def value(self, xp, x):
        return xp.abs(x)

    def slope(self, xp, x, y):
        return xp.sign(x)


def absolute(x):
    """|x|, with gradient sign(x) (0 at 0); used by losses and L1 terms."""
    return Abs.apply(x)


_GELU_C = (2 / 3.141592653589793) ** 0.5
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


class LogSoftmax(Function):
    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        xp = get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self.y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, g):
        xp = get_array_module(g)
        return g - xp.exp(self.y) * g.sum(axis=self.axis, keepdims=True)


class PReLU(Function):
    """y = x where x > 0, else alpha * x; alpha broadcasts against x (He et al. 2015)."""

    def forward(self, x, alpha):
        self.x, self.alpha = x, alpha
        self.positive = x > 0
        return get_array_module(x).where(self.positive, x, alpha * x)

    def backward(self, g):
        xp = get_array_module(g)
        gx = xp.where(self.positive, g, self.alpha * g) if self.needs_input_grad[0] else None
        galpha = A.unbroadcast(xp.where(self.positive, 0, g * self.x), self.alpha.shape) \
            if self.needs_input_grad[1] else None
        return gx, galpha


def prelu(x, alpha):
    return PReLU.apply(x, alpha)


def relu6(x):
    return GeneralReLU.apply(x, max_value=6.0)


def elu(x, alpha=1.0):
    return ELU.apply(x, alpha=alpha)


def selu(x):
    """Klambauer et al. 2017: scale * elu(x, alpha) with the self-normalizing constants."""
    return ELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE)


def softplus(x):
    return Softplus.apply(x)


def softsign(x):
    return Softsign.apply(x)


def silu(x):
    return SiLU.apply(x)


def hard_sigmoid(x):
    return HardSigmoid.apply(x)


def hard_silu(x):
    return HardSiLU.apply(x)


def gelu(x, approximate=False):
    return GELU.apply(x, approximate=approximate)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, axis=axis)


def mish(x):
    """x * tanh(softplus(x)) (Misra 2019)."""
    return A.mul(x, tanh(softplus(x)))


def crelu(x, axis=-1):
    """Concatenated ReLU (Shang et al. 2016): [relu(x), relu(-x)] along ``axis``; doubles that axis."""
    from .shape import concatenate
    return concatenate([relu(x), relu(A.neg(x))], axis=axis)


exponential = A.exp
swish, hard_swish = silu, hard_silu
