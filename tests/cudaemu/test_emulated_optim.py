"""kernels/optim.cu emulated on the CPU (and on a GPU when there is one) against reference's
update rules. The kernels take device arrays of pointers (one per tensor): here lists of arrays."""
import numpy as np
import pytest

from cudaemu_harness import Kernels, assert_parity, ints, mode_cases, normal
from deepcore.backend import reference

pytestmark = pytest.mark.cudaemu
FAMILY = "optim"

# the shapes of the parameter tensors updated by one launch
CASES = [((3, 4), (5,), (2, 3, 3), (1,)), ((7,),), ((300,), (2, 2)), ((3, 3, 3, 8), (8,), (72, 10), (10,))]


def tensors(shapes, seed, positive=False):
    rng = np.random.default_rng(seed)
    arrays = [normal(rng, *shape) for shape in shapes]
    return [np.abs(a) for a in arrays] if positive else arrays


def offsets(shapes):
    return np.concatenate([[0], np.cumsum([int(np.prod(s)) for s in shapes])]).astype(np.int32)


def copies(arrays):
    return [a.copy() for a in arrays]


@pytest.mark.parametrize("momentum, nesterov", [(0.9, 0), (0.9, 1), (0.0, 0)], ids=["momentum", "nesterov", "plain"])
@pytest.mark.parametrize("mode, shapes", mode_cases(CASES))
def test_sgd_momentum_update_multi(mode, shapes, momentum, nesterov):
    weights, grads, velocities = tensors(shapes, 12), tensors(shapes, 13), tensors(shapes, 14)
    expected_weights, expected_velocities = copies(weights), copies(velocities)
    reference.sgd_momentum_update(expected_weights, grads, expected_velocities, 0.1, momentum,
                                             bool(nesterov))
    total = sum(a.size for a in weights)
    Kernels(mode).launch_1d("optim", "sgd_momentum_update_multi", total,
                            (weights, grads, velocities, offsets(shapes), *ints(len(shapes)), np.float32(0.1),
                             np.float32(momentum), *ints(nesterov)))
    for i in range(len(shapes)):
        assert_parity(f"sgd_momentum_update_multi (weights[{i}])", weights[i], expected_weights[i])
        assert_parity(f"sgd_momentum_update_multi (velocities[{i}])", velocities[i], expected_velocities[i])


@pytest.mark.parametrize("mode, shapes", mode_cases(CASES))
def test_adam_update_multi(mode, shapes):
    weights, grads, firsts = tensors(shapes, 15), tensors(shapes, 16), tensors(shapes, 17)
    seconds = tensors(shapes, 18, positive=True)
    step_size, beta_1, beta_2, epsilon = reference.adam_step_size(1e-3, 0.9, 0.999, 3), 0.9, 0.999, 1e-7
    expected = [copies(weights), copies(firsts), copies(seconds)]
    reference.adam_update(expected[0], grads, expected[1], expected[2], step_size, beta_1, beta_2, epsilon)
    total = sum(a.size for a in weights)
    Kernels(mode).launch_1d("optim", "adam_update_multi", total,
                            (weights, grads, firsts, seconds, offsets(shapes), *ints(len(shapes)),
                             *(np.float32(v) for v in (step_size, beta_1, beta_2, epsilon))))
    for i in range(len(shapes)):
        for name, got, want in zip(("weights", "firsts", "seconds"), (weights, firsts, seconds), expected):
            assert_parity(f"adam_update_multi ({name}[{i}])", got[i], want[i], rtol=1e-5, atol=1e-6)
