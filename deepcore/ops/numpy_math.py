"""keras.ops' elementwise math: unary and binary functions with NumPy broadcasting, comparisons,
logical and bitwise ops, ``where`` and ``clip``.

A differentiable unary op is one table entry: its value and its slope written through x and
y = f(x). A binary op gives its value and both partial derivatives; ``unbroadcast`` sums each
gradient back to its input's shape. Ops whose gradient is zero almost everywhere (sign, floor,
round, comparisons) return tensors outside the graph, as TensorFlow's gradients are None there.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.arithmetic import unbroadcast
from ..autograd.function import Function
from ..backend import get_array_module
from .activations import _erf, absolute
from .core import constant, floating, operands
from .reduction import maximum as _maximum
from .reduction import minimum as _minimum

LN2, LN10 = math.log(2.0), math.log(10.0)


def _erfinv(xp, y):
    """Inverse error function: Giles' (2010) single-precision start, then two Newton steps on erf."""
    w = -xp.log((1 - y) * (1 + y))
    small = w < 5
    ws, wl = w - 2.5, xp.sqrt(xp.maximum(w, 5)) - 3
    ps = xp.full_like(y, 2.81022636e-08)
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
              0.246640727, 1.50140941):
        ps = c + ps * ws
    pl = xp.full_like(y, -0.000200214257)
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
              1.00167406, 2.83297682):
        pl = c + pl * wl
    x = xp.where(small, ps, pl) * y
    for _ in range(2):
        x = x - (_erf(x) - y) / (2 / math.sqrt(math.pi) * xp.exp(-x * x))
    return xp.where(xp.abs(y) >= 1, xp.sign(y) * xp.inf, x)


# name -> (value(xp, x), slope(xp, x, y))
UNARY = {
    "sqrt": (lambda xp, x: xp.sqrt(x), lambda xp, x, y: 0.5 / y),
    "rsqrt": (lambda xp, x: 1 / xp.sqrt(x), lambda xp, x, y: -0.5 * y * y * y),
    "square": (lambda xp, x: x * x, lambda xp, x, y: 2 * x),
    "reciprocal": (lambda xp, x: 1 / x, lambda xp, x, y: -y * y),
    "cbrt": (lambda xp, x: xp.cbrt(x), lambda xp, x, y: 1 / (3 * y * y)),
    "log1p": (lambda xp, x: xp.log1p(x), lambda xp, x, y: 1 / (1 + x)),
    "log2": (lambda xp, x: xp.log2(x), lambda xp, x, y: 1 / (x * LN2)),
    "log10": (lambda xp, x: xp.log10(x), lambda xp, x, y: 1 / (x * LN10)),
    "expm1": (lambda xp, x: xp.expm1(x), lambda xp, x, y: y + 1),
    "exp2": (lambda xp, x: xp.exp2(x), lambda xp, x, y: y * LN2),
    "sin": (lambda xp, x: xp.sin(x), lambda xp, x, y: xp.cos(x)),
    "cos": (lambda xp, x: xp.cos(x), lambda xp, x, y: -xp.sin(x)),
    "tan": (lambda xp, x: xp.tan(x), lambda xp, x, y: 1 + y * y),
    "arcsin": (lambda xp, x: xp.arcsin(x), lambda xp, x, y: 1 / xp.sqrt(1 - x * x)),
    "arccos": (lambda xp, x: xp.arccos(x), lambda xp, x, y: -1 / xp.sqrt(1 - x * x)),
    "arctan": (lambda xp, x: xp.arctan(x), lambda xp, x, y: 1 / (1 + x * x)),
    "sinh": (lambda xp, x: xp.sinh(x), lambda xp, x, y: xp.cosh(x)),
    "cosh": (lambda xp, x: xp.cosh(x), lambda xp, x, y: xp.sinh(x)),
    "arcsinh": (lambda xp, x: xp.arcsinh(x), lambda xp, x, y: 1 / xp.sqrt(x * x + 1)),
    "arccosh": (lambda xp, x: xp.arccosh(x), lambda xp, x, y: 1 / xp.sqrt(x * x - 1)),
    "arctanh": (lambda xp, x: xp.arctanh(x), lambda xp, x, y: 1 / (1 - x * x)),
    "erf": (lambda xp, x: _erf(x), lambda xp, x, y: 2 / math.sqrt(math.pi) * xp.exp(-x * x)),
    "erfinv": (_erfinv, lambda xp, x, y: math.sqrt(math.pi) / 2 * xp.exp(y * y)),
}


class Unary(Function):
    def __init__(self, name):
        self.value, self.slope = UNARY[name]

    def forward(self, x):
        self.x = x
        self.y = self.value(get_array_module(x), x).astype(x.dtype, copy=False)
        return self.y

    def backward(self, g):
        return g * self.slope(get_array_module(g), self.x, self.y)


def _unary(name):
    def op(x):
        return Unary.apply(floating(x), name=name)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}, differentiable (float32 for integer input)."
    return op


sqrt, rsqrt, square, reciprocal, cbrt = (_unary(n) for n in ("sqrt", "rsqrt", "square", "reciprocal", "cbrt"))
log1p, log2, log10, expm1, exp2 = (_unary(n) for n in ("log1p", "log2", "log10", "expm1", "exp2"))
sin, cos, tan, arcsin, arccos, arctan = (_unary(n) for n in ("sin", "cos", "tan", "arcsin", "arccos", "arctan"))
sinh, cosh, arcsinh, arccosh, arctanh = (_unary(n) for n in ("sinh", "cosh", "arcsinh", "arccosh", "arctanh"))
erf, erfinv = _unary("erf"), _unary("erfinv")


def exp(x):
    return A.exp(floating(x))


def log(x):
    return A.log(floating(x))


def tanh(x):
    from .activations import tanh as tanh_
    return tanh_(floating(x))


def abs(x):  # noqa: A001 - mirrors keras.ops.abs
    (x,) = operands(x)
    return absolute(x) if x.dtype.kind == "f" else constant(get_array_module(x.data).abs(x.data))


def negative(x):
    (x,) = operands(x)
    return A.neg(x)


# --- binary ---------------------------------------------------------------------------------

def _safe_log(xp, a):
    return xp.log(xp.where(a > 0, a, 1))


# name -> (value(xp, a, b), d/da(xp, a, b, y), d/db(xp, a, b, y))
BINARY = {
    "power": (lambda xp, a, b: a ** b, lambda xp, a, b, y: b * a ** (b - 1),
              lambda xp, a, b, y: y * _safe_log(xp, a)),
    "arctan2": (lambda xp, a, b: xp.arctan2(a, b), lambda xp, a, b, y: b / (a * a + b * b),
                lambda xp, a, b, y: -a / (a * a + b * b)),
    "logaddexp": (lambda xp, a, b: xp.logaddexp(a, b), lambda xp, a, b, y: xp.exp(a - y),
                  lambda xp, a, b, y: xp.exp(b - y)),
    "mod": (lambda xp, a, b: xp.mod(a, b), lambda xp, a, b, y: xp.ones_like(y),
            lambda xp, a, b, y: -xp.floor_divide(a, b)),
    "logaddexp2": (lambda xp, a, b: xp.logaddexp2(a, b), lambda xp, a, b, y: xp.exp2(a - y),
                   lambda xp, a, b, y: xp.exp2(b - y)),
    "divide_no_nan": (lambda xp, a, b: xp.where(b == 0, 0, a / xp.where(b == 0, 1, b)),
                      lambda xp, a, b, y: xp.where(b == 0, 0, 1 / xp.where(b == 0, 1, b)),
                      lambda xp, a, b, y: xp.where(b == 0, 0, -y / xp.where(b == 0, 1, b))),
}


class Binary(Function):
    def __init__(self, name):
        self.value, self.da, self.db = BINARY[name]

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = self.value(get_array_module(a), a, b)
        return self.y

    def backward(self, g):
        xp = get_array_module(g)
        ga = unbroadcast(g * self.da(xp, self.a, self.b, self.y), self.a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * self.db(xp, self.a, self.b, self.y), self.b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def _binary(name, floats=True):
    def op(x1, x2):
        a, b = operands(x1, x2)
        _check_broadcast(name, a, b)
        if floats or a.dtype.kind == "f" or b.dtype.kind == "f":
            a, b = floating(a), floating(b)
            if a.dtype != b.dtype:
                common = np.promote_types(a.dtype, b.dtype)
                a, b = A.cast(a, common), A.cast(b, common)
            return Binary.apply(a, b, name=name)
        return constant(BINARY[name][0](get_array_module(a.data), a.data, b.data))
    op.__name__ = op.__qualname__ = name
    return op


def _check_broadcast(name, *tensors):
    try:
        np.broadcast_shapes(*[t.shape for t in tensors])
    except ValueError:
        raise ValueError(f"{name}: shapes {[t.shape for t in tensors]} cannot be broadcast together") from None


arctan2, logaddexp, divide_no_nan = _binary("arctan2"), _binary("logaddexp"), _binary("divide_no_nan")
logaddexp2 = _binary("logaddexp2")
power, mod = _binary("power", floats=False), _binary("mod", floats=False)


def _arith(name, op):
    def fn(x1, x2):
        a, b = operands(x1, x2)
        _check_broadcast(name, a, b)
        return op(a, b)
    fn.__name__ = fn.__qualname__ = name
    return fn


add, subtract, multiply = _arith("add", A.add), _arith("subtract", A.sub), _arith("multiply", A.mul)


def divide(x1, x2):
    a, b = operands(x1, x2)
    _check_broadcast("divide", a, b)
    return A.div(floating(a), floating(b))


true_divide = divide


def floor_divide(x1, x2):
    a, b = operands(x1, x2)
    _check_broadcast("floor_divide", a, b)
    return constant(get_array_module(a.data).floor_divide(a.data, b.data))


maximum, minimum = _arith("maximum", _maximum), _arith("minimum", _minimum)


def clip(x, x_min, x_max):
    """min(max(x, x_min), x_max); the gradient reaches x where it lies inside the bounds."""
    return minimum(maximum(x, x_min), x_max)


class Where(Function):
    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return get_array_module(a).where(self.condition, a, b)

    def backward(self, g):
        zero = g.dtype.type(0)
        return (unbroadcast(get_array_module(g).where(self.condition, g, zero), self.shapes[0]),
                unbroadcast(get_array_module(g).where(self.condition, zero, g), self.shapes[1]))


def where(condition, x1=None, x2=None):
    """x1 where condition holds, else x2 (broadcast); with neither given, the indices of nonzero entries."""
    if x1 is None and x2 is None:
        from .numpy_create import nonzero
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither")
    c, a, b = operands(condition, x1, x2)
    _check_broadcast("where", c, a, b)
    if a.dtype != b.dtype:
        common = np.promote_types(a.dtype, b.dtype)
        a, b = A.cast(a, common), A.cast(b, common)
    return Where.apply(a, b, condition=c.data.astype(bool))


# --- no gradient: piecewise constant, comparisons, logic, bits ----------------------------------

def _constant_unary(name, fn):
    def op(x):
        (x,) = operands(x)
        return constant(fn(get_array_module(x.data), x.data))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name} (no gradient: piecewise constant)."
    return op


sign = _constant_unary("sign", lambda xp, x: xp.sign(x))
floor = _constant_unary("floor", lambda xp, x: xp.floor(x))
ceil = _constant_unary("ceil", lambda xp, x: xp.ceil(x))
trunc = _constant_unary("trunc", lambda xp, x: xp.trunc(x))
isnan = _constant_unary("isnan", lambda xp, x: xp.isnan(x))
isinf = _constant_unary("isinf", lambda xp, x: xp.isinf(x))
isfinite = _constant_unary("isfinite", lambda xp, x: xp.isfinite(x))
signbit = _constant_unary("signbit", lambda xp, x: xp.signbit(x))
logical_not = _constant_unary("logical_not", lambda xp, x: xp.logical_not(x))
bitwise_invert = bitwise_not = _constant_unary("bitwise_invert", lambda xp, x: xp.invert(x))


def round(x, decimals=0):  # noqa: A001 - mirrors keras.ops.round
    (x,) = operands(x)
    return constant(get_array_module(x.data).round(x.data, decimals))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    (x,) = operands(x)
    xp = get_array_module(x.data)
    keep = xp.isfinite(x.data)
    replaced = xp.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf)
    return Where.apply(x, constant(replaced), condition=keep)


def _constant_binary(name, fn):
    def op(x1, x2):
        a, b = operands(x1, x2)
        _check_broadcast(name, a, b)
        return constant(fn(get_array_module(a.data), a.data, b.data))
    op.__name__ = op.__qualname__ = name
    return op


equal = _constant_binary("equal", lambda xp, a, b: a == b)
not_equal = _constant_binary("not_equal", lambda xp, a, b: a != b)
greater = _constant_binary("greater", lambda xp, a, b: a > b)
greater_equal = _constant_binary("greater_equal", lambda xp, a, b: a >= b)
less = _constant_binary("less", lambda xp, a, b: a < b)
less_equal = _constant_binary("less_equal", lambda xp, a, b: a <= b)
logical_and = _constant_binary("logical_and", lambda xp, a, b: xp.logical_and(a, b))
logical_or = _constant_binary("logical_or", lambda xp, a, b: xp.logical_or(a, b))
logical_xor = _constant_binary("logical_xor", lambda xp, a, b: xp.logical_xor(a, b))
bitwise_and = _constant_binary("bitwise_and", lambda xp, a, b: a & b)
bitwise_or = _constant_binary("bitwise_or", lambda xp, a, b: a | b)
bitwise_xor = _constant_binary("bitwise_xor", lambda xp, a, b: a ^ b)
bitwise_left_shift = left_shift = _constant_binary("bitwise_left_shift", lambda xp, a, b: a << b)
bitwise_right_shift = right_shift = _constant_binary("bitwise_right_shift", lambda xp, a, b: a >> b)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = operands(x1, x2)
    _check_broadcast("isclose", a, b)
    return constant(get_array_module(a.data).isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def deg2rad(x):
    return A.mul(floating(x), math.pi / 180)


def angle(x):
    """The complex argument; for real x, 0 where x >= 0 and pi where x < 0 (no gradient)."""
    (x,) = operands(x)
    return constant(get_array_module(x.data).angle(x.data).astype("float32" if x.dtype.kind != "f" else x.dtype))


def heaviside(x1, x2):
    a, b = operands(x1, x2)
    _check_broadcast("heaviside", a, b)
    return constant(get_array_module(a.data).heaviside(a.data, b.data))


def isin(x1, x2, assume_unique=False, invert=False):
    a, b = operands(x1, x2)
    return constant(get_array_module(a.data).isin(a.data, b.data, assume_unique=assume_unique, invert=invert))


def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, elementwise (NumPy's select, differentiable in the choices)."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices")
    result = default
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        result = where(condition, choice, result)
    return result
