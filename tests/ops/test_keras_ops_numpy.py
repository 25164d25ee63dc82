"""keras.ops' NumPy-like part: every op against NumPy, a float64 gradient check for each differentiable
one, on every device; inputs as NumPy arrays, lists, Python scalars and Tensors."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import ops
from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device

rng = np.random.default_rng(7)


def host(t):
    return to_device(t.data if isinstance(t, Tensor) else t, "cpu")


def check(xp, op, reference, *inputs, grad=True, rtol=1e-7, atol=1e-9):
    """op on device inputs == reference on host inputs; then a float64 grad check (grad=True)."""
    device_inputs = [xp.asarray(a) for a in inputs]
    expected = reference(*inputs)
    got = op(*[Tensor(a) for a in device_inputs])
    np.testing.assert_allclose(host(got), expected, rtol=rtol, atol=atol)
    if grad:
        grad_check(op, device_inputs)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


def normal(*shape):
    return rng.standard_normal(shape)


UNARY = [  # name, NumPy reference, input
    ("sqrt", np.sqrt, positive(2, 3)), ("rsqrt", lambda x: 1 / np.sqrt(x), positive(2, 3)),
    ("square", np.square, normal(2, 3)), ("reciprocal", np.reciprocal, positive(2, 3)),
    ("cbrt", np.cbrt, positive(2, 3)), ("exp", np.exp, normal(2, 3)), ("log", np.log, positive(2, 3)),
    ("log1p", np.log1p, positive(2, 3)), ("log2", np.log2, positive(2, 3)), ("log10", np.log10, positive(2, 3)),
    ("expm1", np.expm1, normal(2, 3)), ("exp2", np.exp2, normal(2, 3)),
    ("sin", np.sin, normal(2, 3)), ("cos", np.cos, normal(2, 3)), ("tan", np.tan, normal(2, 3) * 0.5),
    ("arcsin", np.arcsin, rng.uniform(-0.8, 0.8, (2, 3))), ("arccos", np.arccos, rng.uniform(-0.8, 0.8, (2, 3))),
    ("arctan", np.arctan, normal(2, 3)), ("sinh", np.sinh, normal(2, 3)), ("cosh", np.cosh, normal(2, 3)),
    ("tanh", np.tanh, normal(2, 3)), ("arcsinh", np.arcsinh, normal(2, 3)),
    ("arccosh", np.arccosh, positive(2, 3) + 1), ("arctanh", np.arctanh, rng.uniform(-0.8, 0.8, (2, 3))),
    ("abs", np.abs, normal(2, 3)), ("absolute", np.abs, normal(2, 3)), ("negative", np.negative, normal(2, 3)),
    ("erf", None, normal(2, 3)), ("erfinv", None, rng.uniform(-0.9, 0.9, (2, 3))),
]


@pytest.mark.parametrize("name,reference,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary(xp, name, reference, x):
    if name == "erf":
        torch = pytest.importorskip("torch")
        reference = lambda v: torch.erf(torch.from_numpy(v)).numpy()  # noqa: E731
    if name == "erfinv":
        torch = pytest.importorskip("torch")
        reference = lambda v: torch.erfinv(torch.from_numpy(v)).numpy()  # noqa: E731
    check(xp, getattr(ops, name), reference, x, rtol=1e-6)


BINARY = [
    ("add", np.add, normal(2, 3), normal(3)), ("subtract", np.subtract, normal(2, 1), normal(3)),
    ("multiply", np.multiply, normal(2, 3), normal(2, 1)), ("divide", np.divide, normal(2, 3), positive(3)),
    ("true_divide", np.true_divide, normal(2, 3), positive(2, 3)),
    ("power", np.power, positive(2, 3), normal(3)), ("arctan2", np.arctan2, normal(2, 3), positive(2, 3)),
    ("logaddexp", np.logaddexp, normal(2, 3), normal(1, 3)), ("maximum", np.maximum, normal(2, 3), normal(3)),
    ("minimum", np.minimum, normal(2, 3), normal(3)), ("mod", np.mod, positive(2, 3) * 3, positive(3)),
    ("logaddexp2", np.logaddexp2, normal(2, 3), normal(3)),
    ("divide_no_nan", np.divide, normal(2, 3), positive(3)),
]


@pytest.mark.parametrize("name,reference,a,b", BINARY, ids=[b[0] for b in BINARY])
def test_binary(xp, name, reference, a, b):
    check(xp, getattr(ops, name), reference, a, b)


def test_divide_no_nan_gives_zero_where_the_divisor_is_zero(xp):
    out = ops.divide_no_nan(xp.asarray([1.0, 2.0]), xp.asarray([0.0, 4.0]))
    np.testing.assert_array_equal(host(out), [0.0, 0.5])


def test_where_and_clip(xp):
    a, b, c = normal(2, 3), normal(3), normal(2, 3) > 0
    check(xp, lambda x, y: ops.where(xp.asarray(c), x, y), lambda x, y: np.where(c, x, y), a, b)
    check(xp, lambda x: ops.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), normal(3, 4))
    nz = ops.where(xp.asarray([[0, 1], [2, 0]]))
    assert [host(i).tolist() for i in nz] == [[0, 1], [1, 0]]


def test_piecewise_constant_and_comparisons(xp):
    x, y = normal(2, 3) * 3, normal(3) * 3
    for name in ("sign", "floor", "ceil", "trunc", "round", "isnan", "isinf", "isfinite", "signbit"):
        np.testing.assert_array_equal(host(getattr(ops, name)(xp.asarray(x))), getattr(np, name)(x))
    for name in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
                 "logical_or", "logical_xor"):
        np.testing.assert_array_equal(host(getattr(ops, name)(xp.asarray(x), xp.asarray(y))), getattr(np, name)(x, y))
    i, j = rng.integers(0, 16, (2, 3)), rng.integers(0, 4, (3,))
    for name, ref in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or), ("bitwise_xor", np.bitwise_xor),
                      ("left_shift", np.left_shift), ("right_shift", np.right_shift),
                      ("floor_divide", np.floor_divide)):
        np.testing.assert_array_equal(host(getattr(ops, name)(xp.asarray(i), xp.asarray(j + 1))), ref(i, j + 1))
    np.testing.assert_array_equal(host(ops.logical_not(xp.asarray(x > 0))), x <= 0)
    np.testing.assert_array_equal(host(ops.isclose(xp.asarray(x), xp.asarray(x + 1e-9))), True)
    np.testing.assert_array_equal(host(ops.nan_to_num(xp.asarray([np.nan, 1.0, np.inf]), posinf=9.0)), [0, 1, 9])


REDUCTIONS = [
    ("sum", {"axis": 1}), ("sum", {"axis": (0, 2), "keepdims": True}), ("mean", {}), ("mean", {"axis": -1}),
    ("max", {"axis": 0}), ("min", {"axis": (1, 2)}), ("prod", {"axis": 1}), ("prod", {}),
    ("var", {"axis": 1}), ("std", {"axis": (0, 1), "keepdims": True}), ("amax", {"axis": 2}), ("amin", {}),
    ("cumsum", {"axis": 1}), ("cumsum", {}), ("cumprod", {"axis": 2}), ("median", {"axis": 1}),
]


@pytest.mark.parametrize("name,kwargs", REDUCTIONS, ids=[f"{r[0]}-{r[1]}" for r in REDUCTIONS])
def test_reductions(xp, name, kwargs):
    x = positive(2, 3, 4)
    check(xp, lambda t: getattr(ops, name)(t, **kwargs), lambda a: getattr(np, name)(a, **kwargs), x)


def test_prod_gradient_with_zeros_is_exact(xp):
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    grad_check(lambda t: ops.prod(t, axis=1), [xp.asarray(x)])


def test_logsumexp_average_quantile_diff_trace(xp):
    x = normal(3, 4) * 10
    check(xp, lambda t: ops.logsumexp(t, axis=1), lambda a: np.log(np.exp(a).sum(axis=1)), x)
    w = positive(4)
    check(xp, lambda t: ops.average(t, axis=1, weights=xp.asarray(w)), lambda a: np.average(a, axis=1, weights=w), x)
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        check(xp, lambda t: ops.quantile(t, [0.2, 0.75], axis=0, method=method),
              lambda a: np.quantile(a, [0.2, 0.75], axis=0, method=method), x)
    check(xp, lambda t: ops.diff(t, n=2, axis=1), lambda a: np.diff(a, n=2, axis=1), x)
    check(xp, lambda t: ops.trace(t, offset=1), lambda a: np.trace(a, offset=1), x)


def test_integer_valued_reductions(xp):
    x = normal(3, 4)
    for name in ("argmax", "argmin"):
        np.testing.assert_array_equal(host(getattr(ops, name)(xp.asarray(x), axis=1)), getattr(np, name)(x, axis=1))
        np.testing.assert_array_equal(host(getattr(ops, name)(xp.asarray(x))), getattr(np, name)(x))
    np.testing.assert_array_equal(host(ops.all(xp.asarray(x > -5), axis=0)), np.all(x > -5, axis=0))
    np.testing.assert_array_equal(host(ops.any(xp.asarray(x > 1), axis=1)), np.any(x > 1, axis=1))
    np.testing.assert_array_equal(host(ops.count_nonzero(xp.asarray(x > 0), axis=0)), np.count_nonzero(x > 0, axis=0))


LAYOUT = [  # name, op, NumPy reference
    ("reshape", lambda t: ops.reshape(t, (4, -1)), lambda a: a.reshape(4, -1)),
    ("expand_dims", lambda t: ops.expand_dims(t, (0, -1)), lambda a: np.expand_dims(a, (0, -1))),
    ("squeeze", lambda t: ops.squeeze(ops.expand_dims(t, 1), 1), lambda a: a),
    ("transpose", lambda t: ops.transpose(t, (2, 0, 1)), lambda a: a.transpose(2, 0, 1)),
    ("moveaxis", lambda t: ops.moveaxis(t, 0, -1), lambda a: np.moveaxis(a, 0, -1)),
    ("swapaxes", lambda t: ops.swapaxes(t, 0, 2), lambda a: np.swapaxes(a, 0, 2)),
    ("ravel", ops.ravel, np.ravel),
    ("flip", lambda t: ops.flip(t, 1), lambda a: np.flip(a, 1)),
    ("roll", lambda t: ops.roll(t, 2, axis=2), lambda a: np.roll(a, 2, axis=2)),
    ("tile", lambda t: ops.tile(t, (1, 2, 1)), lambda a: np.tile(a, (1, 2, 1))),
    ("repeat", lambda t: ops.repeat(t, 2, axis=1), lambda a: np.repeat(a, 2, axis=1)),
    ("repeat-list", lambda t: ops.repeat(t, [1, 0, 3], axis=1), lambda a: np.repeat(a, [1, 0, 3], axis=1)),
    ("take", lambda t: ops.take(t, np.array([[0, 3], [3, 3]]), axis=2),
     lambda a: np.take(a, np.array([[0, 3], [3, 3]]), axis=2)),
    ("take-flat", lambda t: ops.take(t, np.array([5, -1])), lambda a: np.take(a, [5, -1])),
    ("take_along_axis", lambda t: ops.take_along_axis(t, np.zeros((2, 3, 2), int) + 1, axis=2),
     lambda a: np.take_along_axis(a, np.zeros((2, 3, 2), int) + 1, axis=2)),
    ("sort", lambda t: ops.sort(t, axis=1), lambda a: np.sort(a, axis=1)),
    ("diagonal", lambda t: ops.diagonal(t, 1, 1, 2), lambda a: np.diagonal(a, 1, 1, 2)),
    ("rot90", lambda t: ops.rot90(t, 1, (1, 2)), lambda a: np.rot90(a, 1, (1, 2))),
    ("pad-reflect", lambda t: ops.pad(t, ((0, 0), (1, 2), (2, 1)), mode="reflect"),
     lambda a: np.pad(a, ((0, 0), (1, 2), (2, 1)), mode="reflect")),
    ("pad-constant", lambda t: ops.pad(t, 1, constant_values=2.0), lambda a: np.pad(a, 1, constant_values=2.0)),
    ("pad-edge", lambda t: ops.pad(t, ((1, 0), (0, 1), (1, 1)), mode="edge"),
     lambda a: np.pad(a, ((1, 0), (0, 1), (1, 1)), mode="edge")),
    ("tril", lambda t: ops.tril(t, -1), lambda a: np.tril(a, -1)),
    ("triu", lambda t: ops.triu(t, 1), lambda a: np.triu(a, 1)),
    ("broadcast_to", lambda t: ops.broadcast_to(t, (2, 2, 3, 4)), lambda a: np.broadcast_to(a, (2, 2, 3, 4))),
    ("get_item", lambda t: ops.get_item(t, (slice(None), 1)), lambda a: a[:, 1]),
    ("slice", lambda t: ops.slice(t, (0, 1, 1), (2, 2, -1)), lambda a: a[0:2, 1:3, 1:]),
    ("split", lambda t: ops.split(t, [1, 3], axis=2)[1], lambda a: np.split(a, [1, 3], axis=2)[1]),
    ("array_split", lambda t: ops.array_split(t, 3, axis=2)[0], lambda a: np.array_split(a, 3, axis=2)[0]),
    ("unstack", lambda t: ops.unstack(t, axis=1)[2], lambda a: a[:, 2]),
]


@pytest.mark.parametrize("name,op,reference", LAYOUT, ids=[l[0] for l in LAYOUT])
def test_layout(xp, name, op, reference):
    check(xp, op, reference, normal(2, 3, 4))


def test_joining(xp):
    a, b = normal(2, 3), normal(2, 3)
    check(xp, lambda x, y: ops.concatenate([x, y]), lambda x, y: np.concatenate([x, y]), a, b)
    check(xp, lambda x, y: ops.concatenate([x, y], axis=1), lambda x, y: np.concatenate([x, y], axis=1), a, b)
    check(xp, lambda x, y: ops.stack([x, y], axis=1), lambda x, y: np.stack([x, y], axis=1), a, b)
    check(xp, lambda x, y: ops.hstack([x, y]), lambda x, y: np.hstack([x, y]), a, b)
    check(xp, lambda x, y: ops.vstack([x, y]), lambda x, y: np.vstack([x, y]), a, b)
    check(xp, lambda x, y: ops.append(x, y), lambda x, y: np.append(x, y), a, b)
    check(xp, lambda x: ops.diag(x, 1), lambda x: np.diag(x, 1), normal(3))
    check(xp, lambda x: ops.diag(x), lambda x: np.diag(x), normal(3, 3))
    check(xp, lambda x: ops.diagflat(x), lambda x: np.diagflat(x), normal(2, 2))
    check(xp, lambda x, y: ops.meshgrid(x, y)[0] * 2 + ops.meshgrid(x, y)[1],
          lambda x, y: np.meshgrid(x, y)[0] * 2 + np.meshgrid(x, y)[1], normal(3), normal(2))
    check(xp, lambda x, y: ops.meshgrid(x, y, indexing="ij")[1], lambda x, y: np.meshgrid(x, y, indexing="ij")[1],
          normal(3), normal(2))


def test_top_k_argsort(xp):
    x = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, -1.0, 4.0, 0.0]])
    values, indices = ops.top_k(xp.asarray(x), 2)
    np.testing.assert_array_equal(host(values), [[3, 3], [4, 2]])
    np.testing.assert_array_equal(host(indices), [[1, 2], [2, 0]])  # ties: the lower index first
    grad_check(lambda t: ops.top_k(t, 3)[0], [xp.asarray(normal(2, 5))])
    np.testing.assert_array_equal(host(ops.argsort(xp.asarray(x))), np.argsort(x, kind="stable"))
    np.testing.assert_array_equal(np.sort(host(ops.argpartition(xp.asarray(x), 1))[:, :2], axis=1),
                                  np.sort(np.argpartition(x, 1)[:, :2], axis=1))


PRODUCTS = [
    ("matmul-2d", ops.matmul, np.matmul, (3, 4), (4, 2)),
    ("matmul-batched-broadcast", ops.matmul, np.matmul, (2, 1, 3, 4), (3, 4, 2)),
    ("matmul-vector-left", ops.matmul, np.matmul, (4,), (2, 4, 3)),
    ("matmul-vector-right", ops.matmul, np.matmul, (2, 3, 4), (4,)),
    ("matmul-vectors", ops.matmul, np.matmul, (4,), (4,)),
    ("dot-vectors", ops.dot, np.dot, (4,), (4,)),
    ("dot-nd", ops.dot, np.dot, (2, 3, 4), (5, 4, 2)),
    ("dot-scalar", ops.dot, np.dot, (), (2, 3)),
    ("tensordot", lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])),
     lambda a, b: np.tensordot(a, b, axes=([1, 2], [0, 1])), (2, 3, 4), (3, 4, 5)),
    ("tensordot-int", lambda a, b: ops.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1), (2, 3), (3, 4)),
    ("inner", ops.inner, np.inner, (2, 3), (4, 3)),
    ("outer", ops.outer, np.outer, (3,), (2, 2)),
    ("vdot", ops.vdot, np.vdot, (2, 3), (6,)),
    ("cross", ops.cross, np.cross, (4, 3), (4, 3)),
    ("cross-2d", ops.cross, lambda a, b: np.cross(np.pad(a, ((0, 0), (0, 1))), b), (4, 2), (4, 3)),
    ("kron", ops.kron, np.kron, (2, 3), (2, 2)),
]


@pytest.mark.parametrize("name,op,reference,sa,sb", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_products(xp, name, op, reference, sa, sb):
    check(xp, op, reference, normal(*sa), normal(*sb))


EINSUM = [("ij,jk->ik", (2, 3), (3, 4)), ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)), ("ij->ji", (2, 3)),
          ("ij->i", (3, 4)), ("i,j->ij", (3,), (2,)), ("ij,ij->", (2, 3), (2, 3)),
          ("...ij,jk->...ik", (2, 2, 3), (3, 2)),
          ("btnh,bsnh->bnts", (1, 2, 2, 3), (1, 3, 2, 3)), ("ij,kj", (2, 3), (4, 3)), ("ij,j->i", (2, 3), (1,)),
          ("i,i,i->", (3,), (3,), (3,))]


@pytest.mark.parametrize("spec_shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum(xp, spec_shapes):
    spec, *shapes = spec_shapes
    inputs = [normal(*s) for s in shapes]
    check(xp, lambda *t: ops.einsum(spec, *t), lambda *a: np.einsum(spec, *a), *inputs)


def test_creation(xp):
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.ones(3, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(host(ops.full((2, 2), 7)), np.full((2, 2), 7))
    np.testing.assert_array_equal(host(ops.arange(5)), np.arange(5))
    assert ops.arange(5).dtype == np.int32 and ops.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_allclose(host(ops.linspace(0, 1, 5)), np.linspace(0, 1, 5))
    np.testing.assert_allclose(host(ops.logspace(0, 2, 3)), np.logspace(0, 2, 3), rtol=1e-6)
    np.testing.assert_array_equal(host(ops.eye(3, 4, k=1)), np.eye(3, 4, k=1))
    np.testing.assert_array_equal(host(ops.identity(2)), np.eye(2))
    np.testing.assert_array_equal(host(ops.tri(3)), np.tri(3))
    x = xp.asarray(normal(2, 3))
    assert ops.zeros_like(x).shape == (2, 3) and float(host(ops.ones_like(x)).sum()) == 6
    np.testing.assert_array_equal(host(ops.full_like(x, 2.5)), np.full((2, 3), 2.5))
    np.testing.assert_array_equal(host(ops.one_hot(xp.asarray([0, 2, 5]), 3)), [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(host(ops.one_hot(xp.asarray([0, 2]), 3, axis=0)), [[1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(host(ops.multi_hot(xp.asarray([[0, 2], [1, 1]]), 3)), [[1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(host(ops.searchsorted(xp.asarray([1.0, 2.0, 3.0]), xp.asarray([2.5, 0.0]))), [2, 0])
    np.testing.assert_array_equal(host(ops.digitize(xp.asarray([0.5, 2.5]), xp.asarray([1.0, 2.0]))), [0, 2])
    np.testing.assert_array_equal(host(ops.bincount(xp.asarray([0, 2, 2]))), [1, 0, 2])
    assert [host(i).tolist() for i in ops.unravel_index(xp.asarray([5]), (2, 3))] == [[1], [2]]


def test_accepts_arrays_lists_scalars_and_tensors(xp):
    t = Tensor(xp.asarray(np.ones((2, 2), np.float32)))
    assert ops.add(t, 1).dtype == np.float32  # a Python number takes the tensor's dtype
    assert ops.multiply(2.5, t).dtype == np.float32
    np.testing.assert_allclose(host(ops.add(np.ones((2, 2), np.float32), t)), 2)  # a NumPy array meets a Tensor
    np.testing.assert_allclose(host(ops.subtract([[1.0, 2.0]], t)), [[0, 1], [0, 1]])
    assert ops.add(1, 2).dtype == np.int32 and int(host(ops.add(1, 2))) == 3
    assert ops.sqrt(np.array([4])).dtype == np.float32  # integer input gives float32, as Keras
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == np.float32
    assert ops.convert_to_tensor(np.zeros(2)).dtype == np.float64  # NumPy arrays keep their dtype
    assert isinstance(ops.convert_to_numpy(t), np.ndarray) and ops.is_tensor(t)
    assert ops.shape(t) == (2, 2) and ops.ndim(t) == 2 and ops.size(t) == 4 and ops.dtype(t) == "float32"
    assert ops.cast(t, "float16").dtype == np.float16


def test_stop_gradient_copy_and_custom_gradient(xp):
    x = Tensor(xp.asarray([1.0, 2.0]), requires_grad=True)
    (ops.stop_gradient(x) * x).sum().backward()
    np.testing.assert_allclose(host(x.grad), [1, 2])

    @ops.custom_gradient
    def clip_gradient(v):
        return v * 1.0, lambda upstream: ops.clip(upstream, -0.1, 0.1)

    x.grad = None
    (clip_gradient(x) * 10).sum().backward()
    np.testing.assert_allclose(host(x.grad), [0.1, 0.1])
    grad_check(ops.copy, [xp.asarray(normal(2, 2))])


def test_scatter_and_slice_update(xp):
    indices = np.array([[0, 1], [2, 0], [0, 1]])
    values = normal(3)
    expected = np.zeros((3, 2))
    np.add.at(expected, (indices[:, 0], indices[:, 1]), values)
    check(xp, lambda v: ops.scatter(xp.asarray(indices), v, (3, 2)), lambda v: expected, values)
    base, update = normal(3, 4), normal(2, 2)
    expected = base.copy()
    expected[1:3, 2:4] = update
    check(xp, lambda b, u: ops.slice_update(b, (1, 2), u), lambda b, u: expected, base, update)
    expected = base.copy()
    expected[[0, 2], [1, 3]] = [5.0, 6.0]
    check(xp, lambda b: ops.scatter_update(b, xp.asarray([[0, 1], [2, 3]]), xp.asarray([5.0, 6.0])),
          lambda b: expected, base)


def test_control_flow():
    assert int(ops.cond(ops.greater(2, 1), lambda: ops.ones(()), lambda: ops.zeros(()))) == 1
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 0) == 6
    assert ops.while_loop(lambda i: i < 5, lambda i: i + 2, 0) == 6
    assert ops.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * 2), (0, 1)) == (3, 8)
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), 0.0, np.array([1.0, 2.0, 3.0]))
    assert float(host(carry)) == 6 and host(ys).tolist() == [0, 2, 9]
    np.testing.assert_array_equal(host(ops.map(lambda r: ops.sum(r), np.arange(6.0).reshape(3, 2))), [1, 5, 9])
    np.testing.assert_array_equal(host(ops.associative_scan(ops.add, np.arange(4.0))), [0, 1, 3, 6])
    assert int(host(ops.switch(1, [lambda v: v, lambda v: v * 3], 2))) == 6


@pytest.mark.parametrize("call", [
    lambda: ops.add(np.zeros((2, 3)), np.zeros((4,))),
    lambda: ops.matmul(np.zeros((2, 3)), np.zeros((4, 2))),
    lambda: ops.matmul(np.zeros((2, 2, 3)), np.zeros((3, 3, 2))),
    lambda: ops.concatenate([np.zeros((2, 3)), np.zeros((3, 2))]),
    lambda: ops.stack([np.zeros(2), np.zeros(3)]),
    lambda: ops.reshape(np.zeros(6), (4, -1)),
    lambda: ops.squeeze(np.zeros((2, 3)), 0),
    lambda: ops.take(np.zeros(3), np.array([3])),
    lambda: ops.einsum("ij,jk->ik", np.zeros((2, 3)), np.zeros((4, 2))),
    lambda: ops.where(np.zeros((2, 3)) > 0, np.zeros((4,)), 0.0),
    lambda: ops.top_k(np.zeros(3), 4),
    lambda: ops.split(np.zeros(5), 2),
    lambda: ops.transpose(np.zeros((2, 3)), (0, 0)),
    lambda: ops.sum(np.zeros((2, 3)), axis=2),
    lambda: ops.broadcast_to(np.zeros(3), (2, 4)),
    lambda: ops.one_hot(np.array([0.5]), 3),
], ids=["add", "matmul", "matmul-batch", "concatenate", "stack", "reshape", "squeeze", "take", "einsum", "where",
        "top_k", "split", "transpose", "sum-axis", "broadcast_to", "one_hot"])
def test_incompatible_inputs_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_ops_live_on_the_keras_namespace():
    assert dc.ops.linalg.inv is ops.inv
    for name in ("add", "matmul", "einsum", "softmax", "conv", "one_hot", "top_k", "convert_to_tensor"):
        assert callable(getattr(ops, name))


def test_more_numpy_names(xp):
    x = normal(3, 5)
    check(xp, ops.deg2rad, np.deg2rad, x)
    check(xp, ops.corrcoef, np.corrcoef, x)
    check(xp, lambda a, b: ops.select([xp.asarray(x > 0.5), xp.asarray(x < -0.5)], [a, b], 0.0),
          lambda a, b: np.select([x > 0.5, x < -0.5], [a, b], 0.0), normal(3, 5), normal(3, 5))
    np.testing.assert_array_equal(host(ops.angle(xp.asarray([-2.0, 0.0, 3.0]))), np.angle([-2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(host(ops.heaviside(xp.asarray(x), xp.asarray(0.5))), np.heaviside(x, 0.5))
    np.testing.assert_array_equal(host(ops.isin(xp.asarray([1, 2, 3]), xp.asarray([2, 5]))), [False, True, False])
    counts, edges = ops.histogram(xp.asarray(x), bins=4)
    np.testing.assert_array_equal(host(counts), np.histogram(x, bins=4)[0])
    np.testing.assert_allclose(host(edges), np.histogram(x, bins=4)[1])
    smooth = ops.vectorize(lambda a, b: ops.where(ops.greater(a, b), a * b, a - b))
    check(xp, smooth, lambda a, b: np.where(a > b, a * b, a - b), normal(2, 3), normal(3))


def test_fft_family(xp):
    re, im = normal(2, 8), normal(2, 8)
    expected = np.fft.fft(re + 1j * im)
    check(xp, lambda a, b: ops.fft((a, b))[0] + 2 * ops.fft((a, b))[1],
          lambda a, b: expected.real + 2 * expected.imag, re, im)
    grid = np.fft.fft2(normal(3, 4) + 1j * normal(3, 4))
    check(xp, lambda a, b: ops.fft2((a, b))[1], lambda a, b: np.fft.fft2(a + 1j * b).imag, grid.real, grid.imag)
    check(xp, lambda a, b: ops.ifft2((a, b))[0], lambda a, b: np.fft.ifft2(a + 1j * b).real, grid.real, grid.imag)
    signal = normal(2, 7)
    check(xp, lambda s: ops.rfft(s)[1], lambda s: np.fft.rfft(s).imag, signal)
    check(xp, lambda s: ops.rfft(s, fft_length=10)[0], lambda s: np.fft.rfft(s, 10).real, signal)
    spectrum = np.fft.rfft(normal(2, 8))
    check(xp, lambda a, b: ops.irfft((a, b)), lambda a, b: np.fft.irfft(a + 1j * b), spectrum.real, spectrum.imag)
    check(xp, lambda a, b: ops.irfft((a, b), fft_length=7), lambda a, b: np.fft.irfft(a + 1j * b, 7),
          spectrum.real, spectrum.imag)
    with pytest.raises(ValueError, match="tuple \\(real, imag\\)"):
        ops.fft(np.zeros(4))


def test_windows_and_correlate(xp):
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        np.testing.assert_allclose(host(getattr(ops, name)(7)), getattr(np, name)(7), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(host(ops.kaiser(6, 2.5)), np.kaiser(6, 2.5), rtol=1e-6)
    for mode in ("valid", "same", "full"):
        check(xp, lambda a, v: ops.correlate(a, v, mode), lambda a, v: np.correlate(a, v, mode), normal(6), normal(3))
        check(xp, lambda a, v: ops.correlate(a, v, mode), lambda a, v: np.correlate(a, v, mode), normal(3), normal(5))
