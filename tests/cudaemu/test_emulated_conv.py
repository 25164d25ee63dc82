"""kernels/conv.cu emulated on the CPU (and on a GPU when there is one) against reference.im2col/col2im."""
import numpy as np
import pytest

from cudaemu_harness import Kernels, assert_parity, empty, ints, mode_cases, normal
from deepcore.backend import reference

pytestmark = pytest.mark.cudaemu
FAMILY = "conv"

# (x shape, kernel, stride, padding ((top, bottom), (left, right)), dilation)
CASES = [
    ((2, 7, 9, 3), (3, 2), (2, 1), ((1, 2), (0, 3)), (1, 2)),  # asymmetric padding, rectangular, dilation
    ((1, 5, 6, 1), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # batch 1, channels 1, 'same'
    ((2, 6, 5, 3), (2, 2), (3, 3), ((0, 0), (0, 0)), (1, 1)),  # stride > kernel: pixels in no window
    ((1, 9, 8, 2), (3, 3), (1, 1), ((2, 2), (2, 2)), (2, 2)),  # dilation 2, 'same'
    ((3, 4, 4, 5), (4, 4), (1, 1), ((0, 0), (0, 0)), (1, 1)),  # the kernel covers the image
    ((2, 8, 7, 4), (1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),  # strided 1x1
]


def geometry(case):
    (n, h, w, c), (kh, kw), stride, padding, dilation = case
    out_h = reference.conv_output_size(h, kh, stride[0], *padding[0], dilation[0])
    out_w = reference.conv_output_size(w, kw, stride[1], *padding[1], dilation[1])
    # The argument order of cuda_kernels.ConvGeometry.kernel_args.
    args = ints(n, h, w, c, kh, kw, out_h, out_w, *stride, padding[0][0], padding[1][0], *dilation)
    return (n * out_h * out_w, kh * kw * c), args


@pytest.mark.parametrize("mode, case", mode_cases(CASES))
def test_im2col(mode, case):
    x_shape, kernel, stride, padding, dilation = case
    x = normal(np.random.default_rng(0), *x_shape)
    cols_shape, args = geometry(case)
    cols = empty(cols_shape)
    Kernels(mode).launch_1d("conv", "im2col_nhwc", cols.size, (x, cols, *args))
    expected = reference.im2col(x, kernel, stride, padding, dilation).reshape(cols_shape)
    assert_parity("im2col_nhwc", cols, expected, rtol=0, atol=0)


@pytest.mark.parametrize("mode, case", mode_cases(CASES))
def test_col2im(mode, case):
    x_shape, kernel, stride, padding, dilation = case
    cols_shape, args = geometry(case)
    cols = normal(np.random.default_rng(1), *cols_shape)
    x = empty(x_shape)
    Kernels(mode).launch_1d("conv", "col2im_nhwc", x.size, (cols, x, *args))
    n, _, _, c = x_shape
    out_h, out_w = args[6], args[7]
    expected = reference.col2im(cols.reshape(n, out_h, out_w, *kernel, c), x_shape, stride, padding, dilation)
    assert_parity("col2im_nhwc", x, expected)
