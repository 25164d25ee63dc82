"""kernels/softmax.cu emulated on the CPU (and on a GPU when there is one) against reference.py."""
import numpy as np
import pytest

from cudaemu_harness import Kernels, assert_parity, empty, ints, mode_cases, normal
from deepcore.backend import reference

pytestmark = pytest.mark.cudaemu
FAMILY = "softmax"

# (rows, classes): fewer classes than a warp's lanes, more, not a multiple of 32, one class
SHAPES = [(5, 33), (3, 10), (1, 1), (17, 100), (40, 7)]


def logits_and_labels(shape, seed):
    rng = np.random.default_rng(seed)
    return normal(rng, *shape) * 4, rng.integers(0, shape[1], shape[0]).astype(np.int32)


@pytest.mark.parametrize("mode, shape", mode_cases(SHAPES))
def test_softmax_cross_entropy_forward(mode, shape):
    logits, labels = logits_and_labels(shape, 8)
    rows, classes = shape
    loss, probabilities = empty(rows), empty(shape)
    Kernels(mode).launch_1d("softmax", "softmax_cross_entropy_forward_rows", rows,
                            (logits, labels, loss, probabilities, *ints(rows, classes)), per_warp=True)
    expected_loss, expected_probabilities = reference.softmax_cross_entropy_forward(logits, labels)
    assert_parity("softmax_cross_entropy_forward_rows (loss)", loss, expected_loss, rtol=1e-5, atol=1e-5)
    assert_parity("softmax_cross_entropy_forward_rows (probabilities)", probabilities, expected_probabilities,
                  rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode, shape", mode_cases(SHAPES))
def test_softmax_forward(mode, shape):
    x, _ = logits_and_labels(shape, 12)
    y = empty(shape)
    Kernels(mode).launch_1d("softmax", "softmax_forward_rows", shape[0], (x, y, *ints(*shape)), per_warp=True)
    assert_parity("softmax_forward_rows", y, reference.softmax_forward(x), rtol=1e-5, atol=1e-6)


def test_softmax_cross_entropy_forward_label_out_of_range_is_nan():
    logits, labels = logits_and_labels((3, 10), 9)
    labels[1] = 10
    loss, probabilities = empty(3), empty((3, 10))
    Kernels("plain").launch_1d("softmax", "softmax_cross_entropy_forward_rows", 3,
                               (logits, labels, loss, probabilities, *ints(3, 10)), per_warp=True)
    assert np.isnan(loss[1]) and np.isfinite(loss[[0, 2]]).all()


@pytest.mark.parametrize("mode, shape", mode_cases(SHAPES))
def test_softmax_cross_entropy_backward(mode, shape):
    logits, labels = logits_and_labels(shape, 10)
    _, probabilities = reference.softmax_cross_entropy_forward(logits, labels)
    g_loss = normal(np.random.default_rng(11), shape[0])
    grad = empty(shape)
    Kernels(mode).launch_1d("softmax", "softmax_cross_entropy_backward_rows", grad.size,
                            (probabilities, labels, g_loss, grad, *ints(*shape)))
    assert_parity("softmax_cross_entropy_backward_rows", grad,
                  reference.softmax_cross_entropy_backward(probabilities, labels, g_loss), rtol=1e-6, atol=1e-7)
