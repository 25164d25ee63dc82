"""kernels/activation.cu emulated on the CPU (and on a GPU when there is one) against reference.py."""
import numpy as np
import pytest

from cudaemu_harness import Kernels, assert_parity, empty, ints, mode_cases, normal
from deepcore.backend import reference

pytestmark = pytest.mark.cudaemu
FAMILY = "activation"

SHAPES = [(2, 5, 7, 3), (1, 1), (3, 33), (4, 9, 9, 16), (1000,)]


@pytest.mark.parametrize("in_place", [False, True], ids=["out_of_place", "in_place"])
@pytest.mark.parametrize("apply_relu", [1, 0], ids=["relu", "bias_only"])
@pytest.mark.parametrize("mode, shape", mode_cases(SHAPES))
def test_bias_relu_forward(mode, shape, apply_relu, in_place):
    rng = np.random.default_rng(6)
    x, bias = normal(rng, *shape), normal(rng, shape[-1])
    expected = reference.bias_relu_forward(x, bias) if apply_relu else x + bias
    y = x if in_place else empty(shape)  # conv2d_bias_relu_forward runs it in place
    Kernels(mode).launch_1d("activation", "bias_relu_forward_nhwc", x.size,
                            (x, bias, y, *ints(x.size, shape[-1], apply_relu)))
    assert_parity("bias_relu_forward_nhwc", y, expected, rtol=0, atol=0)


@pytest.mark.parametrize("mode, shape", mode_cases(SHAPES))
def test_relu_backward(mode, shape):
    rng = np.random.default_rng(7)
    gy, y = normal(rng, *shape), np.maximum(normal(rng, *shape), 0)
    gx = empty(shape)
    Kernels(mode).launch_1d("activation", "relu_backward_flat", gx.size, (gy, y, gx, *ints(gx.size)))
    assert_parity("relu_backward_flat", gx, reference.relu_backward(gy, y), rtol=0, atol=0)
