import numpy as np
import pytest

import deepcore as dc
from deepcore.autograd import Function, GradientCheckError, Tensor, grad_check, no_grad
from deepcore.autograd import arithmetic as A

rng = np.random.default_rng(0)


def test_shared_input_gradients_accumulate():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * x + x * 3.0  # x used three times
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 3.0)


def test_diamond_graph_visits_each_node_once():
    x = Tensor(np.array([2.0]), requires_grad=True)
    a = x * 2.0
    b = a + a
    (b * a).sum().backward()  # b*a = 4x * 2x = 8x^2 -> 16x
    np.testing.assert_allclose(x.grad, [32.0])


def test_no_grad_records_nothing():
    x = Tensor(np.ones(3), requires_grad=True)
    with no_grad():
        y = x * 2.0
    assert y._creator is None and not y.requires_grad


def test_backward_on_non_scalar_needs_grad():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="non-scalar"):
        (x * 2.0).backward()


def test_python_scalars_keep_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32))
    assert (x * 0.5).dtype == np.float32 and (2.0 - x).dtype == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (b * b + 1.0),
    lambda a, b: (a @ b.T), lambda a, b: A.exp(a) * A.log(b * b + 1.0), lambda a, b: (a ** 3) - b,
])
def test_arithmetic_gradients(op):
    grad_check(op, [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))])


def test_broadcasting_gradients_are_summed_back():
    grad_check(lambda a, b: a * b + b, [rng.standard_normal((2, 3, 4)), rng.standard_normal((1, 4))])


def test_reductions_reshape_index_gradients():
    x = rng.standard_normal((2, 3, 4))
    grad_check(lambda a: A.sum(a, axis=(0, 2)), [x])
    grad_check(lambda a: A.mean(a, axis=1, keepdims=True), [x])
    grad_check(lambda a: A.mean(a, axis=(0, 2)), [x])
    grad_check(A.mean, [x])
    np.testing.assert_allclose(A.mean(x, axis=(0, 2)).data, x.mean(axis=(0, 2)), rtol=1e-12)
    grad_check(lambda a: A.transpose(A.reshape(a, (6, 4))), [x])
    grad_check(lambda a: a[:, 1:, ::2], [x])
    grad_check(lambda a: a[np.array([0, 0, 1])], [x])  # repeated index accumulates


def test_grad_check_catches_a_wrong_backward():
    class WrongSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return g * self.x  # should be 2 * x

    with pytest.raises(GradientCheckError):
        grad_check(lambda a: WrongSquare.apply(a), [rng.standard_normal(5)])


def test_grad_check_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        grad_check(lambda a: a * a, [np.ones(3, dtype=np.float32)])


def test_variable_assign_checks_shape():
    v = dc.Variable(np.zeros((2, 3), dtype=np.float32), name="w")
    v.assign(np.ones((2, 3)))
    assert v.numpy().sum() == 6 and v.dtype == np.float32
    with pytest.raises(ValueError, match="shape"):
        v.assign(np.ones((3, 2)))
