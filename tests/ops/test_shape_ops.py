"""Shape, reduction and upsampling ops: float64 gradient checks and values against NumPy/torch."""
import numpy as np
import pytest

from deepcore import ops
from deepcore.autograd import Tensor, grad_check
from deepcore.backend import to_device
from deepcore.ops.upsampling import upsample_bilinear2d, upsample_nearest


def host(a):
    return to_device(a, "cpu")


rng = np.random.default_rng(5)


def arrays(xp, *shapes):
    return [xp.asarray(rng.standard_normal(s)) for s in shapes]


def test_concatenate_pad_broadcast(xp):
    a, b, c = arrays(xp, (2, 3, 4), (2, 1, 4), (2, 2, 4))
    grad_check(lambda *t: ops.concatenate(t, axis=1), [a, b, c])
    grad_check(lambda t: ops.pad(t, ((0, 0), (1, 2), (0, 3))), [a])
    grad_check(lambda t: ops.broadcast_to(t, (2, 5, 4)), [b])
    grad_check(lambda t: ops.repeat_vector(t, 3), [a[:, 0]])


def test_depth_to_space_and_back(xp):
    (x,) = arrays(xp, (2, 3, 2, 8))
    grad_check(lambda t: ops.depth_to_space(t, 2), [x])
    grad_check(lambda t: ops.space_to_depth(t, 2), [x[:, :2]])
    y = ops.space_to_depth(ops.depth_to_space(Tensor(x), 2), 2)
    np.testing.assert_array_equal(host(y.data), host(x))


def test_depth_to_space_channel_order_is_tensorflows():
    # TF doc example: a (1, 1, 1, 4) input [1, 2, 3, 4] becomes [[1, 2], [3, 4]]
    x = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 1, 4)
    np.testing.assert_array_equal(ops.depth_to_space(Tensor(x), 2).numpy()[0, :, :, 0], [[1, 2], [3, 4]])


def test_depth_to_space_matches_torch_pixel_shuffle_when_installed():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 2 * 9)).astype(np.float32)
    # torch's channel order is (c, i, j), TF's (i, j, c): reorder before comparing
    x_torch = torch.tensor(x.reshape(2, 3, 4, 3, 3, 2).transpose(0, 5, 3, 4, 1, 2).reshape(2, 18, 3, 4))
    expected = torch.nn.functional.pixel_shuffle(x_torch, 3).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(ops.depth_to_space(Tensor(x), 3).numpy(), expected)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_max_min_reductions(xp, axis, keepdims):
    (x,) = arrays(xp, (3, 4, 5))
    grad_check(lambda t: ops.max(t, axis=axis, keepdims=keepdims), [x])
    grad_check(lambda t: ops.min(t, axis=axis, keepdims=keepdims), [x])
    np.testing.assert_allclose(host(ops.max(Tensor(x), axis, keepdims).data), host(x).max(axis=axis, keepdims=keepdims))


def test_tied_maxima_share_the_gradient():
    x = Tensor(np.array([[1.0, 3.0, 3.0]]), requires_grad=True)
    ops.max(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5]])


def test_maximum_minimum(xp):
    a, b = arrays(xp, (3, 4), (1, 4))
    grad_check(ops.maximum, [a, b])
    grad_check(ops.minimum, [a, b])


@pytest.mark.parametrize("size", [(2, 2), (1, 3)])
def test_upsampling(xp, size):
    (x,) = arrays(xp, (2, 3, 4, 2))
    grad_check(lambda t: upsample_nearest(t, size), [x])
    grad_check(lambda t: upsample_bilinear2d(t, size), [x])
    grad_check(lambda t: upsample_nearest(t, (3,)), [x[:, 0]])


def test_bilinear_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 5, 3, 4)).astype(np.float32)
    expected = torch.nn.functional.interpolate(torch.tensor(x).permute(0, 3, 1, 2), scale_factor=(3, 2),
                                               mode="bilinear", align_corners=False).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(upsample_bilinear2d(Tensor(x), (3, 2)).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="cannot be joined along axis 1"):
        ops.concatenate([Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 3)))], axis=1)
    with pytest.raises(ValueError, match="divisible by block_size"):
        ops.depth_to_space(Tensor(np.zeros((1, 2, 2, 6))), 2)
