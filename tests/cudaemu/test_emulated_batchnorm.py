"""kernels/batchnorm.cu emulated on the CPU (and on a GPU when there is one) against reference.batchnorm_*.

The two-stage reductions run with the wrapper's number of partial rows and with 3 (several
partial blocks, some of them over no rows at all for small batches)."""
import math

import numpy as np
import pytest

from cudaemu_harness import Kernels, assert_parity, empty, ints, mode_cases, normal
from deepcore.backend import reference
from deepcore.backend.cuda_kernels import BATCHNORM_BLOCK, BATCHNORM_MAX_PARTIALS, BATCHNORM_ROWS_PER_THREAD

pytestmark = pytest.mark.cudaemu
FAMILY = "batchnorm"
EPSILON = 1e-3

# (x shape, partial rows: None for the wrapper's choice)
SHAPES = [(4, 3, 3, 33), (300, 2), (2, 5, 7, 3), (1, 1, 1, 1), (3, 70)]
CASES = [(shape, partial_rows) for shape in SHAPES for partial_rows in (None, 3)]


def case_id(case):
    shape, partial_rows = case
    return f"{shape}-partials={partial_rows or 'wrapper'}"


def partial_grid(rows, channels, partial_rows):
    """The grid of the *_partial_* kernels, as cuda_kernels._partial_grid unless partial_rows is given."""
    if partial_rows is None:
        wanted = math.ceil(rows / (BATCHNORM_BLOCK[1] * BATCHNORM_ROWS_PER_THREAD))
        partial_rows = max(1, min(wanted, BATCHNORM_MAX_PARTIALS))
    return (math.ceil(channels / BATCHNORM_BLOCK[0]), partial_rows)


def batch(shape):
    rng = np.random.default_rng(5)
    channels = shape[-1]
    return normal(rng, *shape) * 3 + 1, normal(rng, channels), normal(rng, channels), normal(rng, *shape)


def moments(kernels, x, partial_rows):
    channels = x.shape[-1]
    rows = x.size // channels
    grid = partial_grid(rows, channels, partial_rows)
    partial = empty((3, grid[1], channels))
    kernels.launch("batchnorm", "batchnorm_partial_moments", grid, BATCHNORM_BLOCK, (x, partial, *ints(rows, channels)))
    mean, variance, inv_std = empty(channels), empty(channels), empty(channels)
    kernels.launch_1d("batchnorm", "batchnorm_finalize_moments", channels,
                      (partial, *ints(grid[1], channels), np.float32(EPSILON), mean, variance, inv_std),
                      per_warp=True)
    return mean, variance, inv_std


@pytest.mark.parametrize("mode, case", mode_cases(CASES, ids=case_id))
def test_batchnorm_forward_train(mode, case):
    shape, partial_rows = case
    x, gamma, beta, _ = batch(shape)
    kernels = Kernels(mode)
    mean, variance, inv_std = moments(kernels, x, partial_rows)
    expected_y, expected_mean, expected_variance, expected_inv_std = reference.batchnorm_forward_train(
        x, gamma, beta, EPSILON)
    for name, got, expected in [("mean", mean, expected_mean), ("variance", variance, expected_variance),
                                ("inv_std", inv_std, expected_inv_std)]:
        assert_parity(f"batchnorm_partial_moments + batchnorm_finalize_moments ({name})", got, expected,
                      rtol=1e-4, atol=1e-4)
    for fuse_relu in (0, 1):
        y = empty(shape)
        kernels.launch_1d("batchnorm", "batchnorm_normalize", x.size,
                          (x, expected_mean, expected_inv_std, gamma, beta, y, *ints(x.size, shape[-1], fuse_relu)))
        assert_parity(f"batchnorm_normalize (fuse_relu={fuse_relu})", y,
                      np.maximum(expected_y, 0) if fuse_relu else expected_y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode, case", mode_cases(CASES[::2], ids=case_id))
def test_batchnorm_forward_infer(mode, case):
    shape, _ = case
    x, gamma, beta, _ = batch(shape)
    mean, variance = x.reshape(-1, shape[-1]).mean(axis=0), x.reshape(-1, shape[-1]).var(axis=0)
    y = empty(shape)
    Kernels(mode).launch_1d("batchnorm", "batchnorm_forward_infer_nhwc", x.size,
                            (x, gamma, beta, mean, variance, np.float32(EPSILON), y, *ints(x.size, shape[-1])))
    assert_parity("batchnorm_forward_infer_nhwc", y,
                  reference.batchnorm_forward_infer(x, gamma, beta, mean, variance, EPSILON), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode, case", mode_cases(CASES[::2], ids=case_id))
def test_batchnorm_relu_forward_infer(mode, case):
    """cuda_kernels.batchnorm_relu_forward_infer: batchnorm_normalize (fuse_relu=1) on the moving statistics."""
    shape, _ = case
    x, gamma, beta, _ = batch(shape)
    mean, variance = x.reshape(-1, shape[-1]).mean(axis=0), x.reshape(-1, shape[-1]).var(axis=0) + 0.5
    inv_std = (1 / np.sqrt(variance + np.float32(EPSILON))).astype(np.float32)
    y = empty(shape)
    Kernels(mode).launch_1d("batchnorm", "batchnorm_normalize", x.size,
                            (x, mean, inv_std, gamma, beta, y, *ints(x.size, shape[-1], 1)))
    assert_parity("batchnorm_normalize (moving statistics, fuse_relu=1)", y,
                  reference.batchnorm_relu_forward_infer(x, gamma, beta, mean, variance, EPSILON), rtol=1e-5,
                  atol=1e-5)


@pytest.mark.parametrize("fuse_relu", [0, 1], ids=["plain", "fused_relu"])
@pytest.mark.parametrize("mode, case", mode_cases(CASES, ids=case_id))
def test_batchnorm_backward(mode, case, fuse_relu):
    shape, partial_rows = case
    x, gamma, beta, gy = batch(shape)
    channels = shape[-1]
    rows = x.size // channels
    y, mean, _, inv_std = reference.batchnorm_relu_forward_train(x, gamma, beta, EPSILON)
    if fuse_relu:
        expected = reference.batchnorm_relu_backward(gy, y, x, gamma, mean, inv_std)
    else:
        expected = reference.batchnorm_backward(gy, x, gamma, mean, inv_std)
    relu_output = y if fuse_relu else gy  # unread when not fused, as in cuda_kernels
    kernels = Kernels(mode)
    grid = partial_grid(rows, channels, partial_rows)
    partial = empty((2, grid[1], channels))
    kernels.launch("batchnorm", "batchnorm_backward_partial_sums", grid, BATCHNORM_BLOCK,
                   (gy, x, relu_output, *ints(fuse_relu), mean, inv_std, partial, *ints(rows, channels)))
    ggamma, gbeta = empty(channels), empty(channels)
    kernels.launch_1d("batchnorm", "batchnorm_backward_finalize", channels,
                      (partial, *ints(grid[1], channels), ggamma, gbeta), per_warp=True)
    gx = empty(shape)
    kernels.launch_1d("batchnorm", "batchnorm_backward_data", x.size,
                      (gy, x, relu_output, *ints(fuse_relu), mean, inv_std, gamma, expected[1], expected[2], gx,
                       *ints(x.size, channels, rows)))
    assert_parity("batchnorm_backward_partial_sums + batchnorm_backward_finalize (ggamma)", ggamma, expected[1],
                  rtol=1e-3, atol=1e-3)
    assert_parity("batchnorm_backward_partial_sums + batchnorm_backward_finalize (gbeta)", gbeta, expected[2],
                  rtol=1e-3, atol=1e-3)
    assert_parity("batchnorm_backward_data", gx, expected[0], rtol=1e-3, atol=1e-3)
