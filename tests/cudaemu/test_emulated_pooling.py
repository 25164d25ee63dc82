"""kernels/pooling.cu emulated on the CPU (and on a GPU when there is one) against reference.py's pooling."""
import numpy as np
import pytest

from cudaemu_harness import Kernels, assert_parity, empty, ints, mode_cases, normal
from deepcore.backend import reference

pytestmark = pytest.mark.cudaemu
FAMILY = "pooling"

# (x shape, pool, stride, padding ((top, bottom), (left, right)))
CASES = [
    ((2, 7, 7, 3), (3, 3), (2, 2), ((1, 1), (1, 1))),  # overlapping windows, 'same'
    ((2, 5, 6, 3), (3, 3), (2, 1), ((2, 2), (1, 2))),  # windows of padding only at the edges
    ((1, 5, 7, 1), (2, 2), (2, 2), ((0, 0), (0, 0))),  # batch 1, channels 1, odd sizes
    ((2, 9, 8, 3), (2, 2), (3, 3), ((0, 0), (0, 0))),  # stride > pool: pixels in no window
    ((3, 6, 5, 2), (3, 2), (1, 1), ((1, 1), (0, 1))),
    ((1, 4, 4, 5), (4, 4), (4, 4), ((0, 0), (0, 0))),  # one window over everything
]


def pool_args(case):
    (n, h, w, c), pool, stride, padding = case
    out_h = reference.conv_output_size(h, pool[0], stride[0], *padding[0])
    out_w = reference.conv_output_size(w, pool[1], stride[1], *padding[1])
    # The argument order of cuda_kernels._pool_args.
    return (n, out_h, out_w, c), ints(n, h, w, c, out_h, out_w, *pool, *stride, padding[0][0], padding[1][0])


def inputs(case, ties):
    rng = np.random.default_rng(2)
    shape = case[0]
    return rng.integers(0, 3, shape).astype(np.float32) if ties else normal(rng, *shape)


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("mode, case", mode_cases(CASES))
def test_maxpool2d_forward_and_backward(mode, case, ties):
    x_shape, pool, stride, padding = case
    x = inputs(case, ties)
    y_shape, args = pool_args(case)
    kernels = Kernels(mode)
    y, argmax = empty(y_shape), empty(y_shape, np.int32)
    kernels.launch_1d("pooling", "maxpool2d_forward_nhwc", y.size, (x, y, argmax, *args))
    expected_y, expected_argmax = reference.maxpool2d_forward(x, pool, stride, padding)
    assert_parity("maxpool2d_forward_nhwc", y, expected_y, rtol=0, atol=0)
    assert_parity("maxpool2d_forward_nhwc (argmax)", argmax, expected_argmax, rtol=0, atol=0)

    gy, gx = normal(np.random.default_rng(3), *y_shape), empty(x_shape)
    kernels.launch_1d("pooling", "maxpool2d_backward_nhwc", gx.size, (gy, expected_argmax, gx, *args))
    expected_gx = reference.maxpool2d_backward(gy, expected_argmax, x_shape, pool, stride, padding)
    assert_parity("maxpool2d_backward_nhwc", gx, expected_gx, rtol=0, atol=0)


@pytest.mark.parametrize("mode, case", mode_cases(CASES))
def test_avgpool2d_forward_and_backward(mode, case):
    x_shape, pool, stride, padding = case
    x = inputs(case, ties=False)
    y_shape, args = pool_args(case)
    kernels = Kernels(mode)
    y = empty(y_shape)
    kernels.launch_1d("pooling", "avgpool2d_forward_nhwc", y.size, (x, y, *args))
    assert_parity("avgpool2d_forward_nhwc", y, reference.avgpool2d_forward(x, pool, stride, padding))

    gy, gx = normal(np.random.default_rng(4), *y_shape), empty(x_shape)
    kernels.launch_1d("pooling", "avgpool2d_backward_nhwc", gx.size, (gy, gx, *args))
    assert_parity("avgpool2d_backward_nhwc", gx, reference.avgpool2d_backward(gy, x_shape, pool, stride, padding))
