"""Each benchmark workload builds in deepcore and, when torch is installed, as a torch twin of equal size."""
import numpy as np
import pytest

from deepcore.bench.workloads import WORKLOADS, build_deepcore, deepcore_parameter_count

# Published sizes: ResNet-20 is 0.27M parameters (He et al. 2016, Table 6); the rest are counted by hand.
EXPECTED_TRAINABLE = {"mlp": 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10,
                      "lenet5": 61_706, "mnist_cnn": 431_080, "cifar_cnn_bn": 288_746, "resnet20": 272_474}


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_deepcore_model_has_the_expected_size_and_output(name):
    workload = WORKLOADS[name]
    model = build_deepcore(workload)
    assert deepcore_parameter_count(model)["trainable"] == EXPECTED_TRAINABLE[name]
    x = np.zeros((2, *workload.input_shape), dtype=np.float32)
    assert model(x, training=False).shape == (2, workload.classes)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_torch_twin_has_the_same_parameter_counts(name):
    torch = pytest.importorskip("torch")
    from deepcore.bench.workloads import build_torch, torch_parameter_count

    workload = WORKLOADS[name]
    twin = build_torch(workload)
    assert torch_parameter_count(twin) == deepcore_parameter_count(build_deepcore(workload))
    shape = workload.input_shape
    x = torch.zeros((2, shape[-1], *shape[:-1]) if len(shape) == 3 else (2, *shape))
    assert tuple(twin(x).shape) == (2, workload.classes)
