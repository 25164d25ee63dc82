"""Each architecture of the zoo computes what its reference implementation computes: the same weights run
through a PyTorch twin written with torch's own padding, pooling and normalization (torch_twins.py) give
the same logits, batch-norm statistics and every branch included."""
import functools
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch_twins  # noqa: E402

from deepcore import applications as A  # noqa: E402
from deepcore import initializers  # noqa: E402


@pytest.fixture(autouse=True)
def unsampled_weights(monkeypatch):
    """Zeros instead of random initial weights (``randomize`` sets them); sampling 20M+ weights in float64
    takes seconds."""
    monkeypatch.setattr(initializers.Initializer, "__call__", lambda self, shape, dtype="float32":
                        np.zeros(shape, dtype))


def randomize(model, rng):
    """He-scaled kernels, and biases, gammas, betas and moving statistics away from their initial values so
    that each of them changes the output."""
    for weight in model.weights:
        kind, shape = weight.name.rsplit("/", 1)[-1], tuple(weight.shape)
        if kind in ("gamma", "moving_variance"):
            value = rng.uniform(0.5, 1.5, shape)
        elif kind in ("beta", "moving_mean", "bias"):
            value = rng.normal(0.0, 0.1, shape)
        else:  # a depthwise kernel (kh, kw, in, 1) has kh * kw inputs per output
            fan_in = math.prod(shape[:2]) if len(shape) == 4 and shape[-1] == 1 else math.prod(shape[:-1])
            value = rng.normal(0.0, math.sqrt(2.0 / fan_in), shape)
        weight.assign(value.astype("float32"))


def one_block_per_stage(block):
    """A ResNet of ``block`` with stages of one block (their counts are checked in test_applications.py)."""
    return functools.partial(A.resnet.resnet, "ResNet", block, (1, 1, 1, 1))


CASES = {
    "lenet5": (A.LeNet5, {}, (32, 32, 1), torch_twins.lenet5),
    "alexnet": (A.AlexNet, {}, (99, 99, 3), torch_twins.alexnet),
    "alexnet_one_tower": (A.AlexNet, {"groups": 1}, (99, 99, 3), functools.partial(torch_twins.alexnet, groups=1)),
    "zfnet": (A.ZFNet, {}, (95, 95, 3), torch_twins.zfnet),
    "vgg11_bn": (A.VGG11, {"batch_norm": True}, (64, 64, 3),
                 functools.partial(torch_twins.vgg_bn, blocks=(1, 1, 2, 2, 2))),
    "googlenet": (A.GoogLeNet, {}, (64, 64, 3), torch_twins.googlenet),
    "resnet18": (A.ResNet18, {}, (64, 64, 3), functools.partial(torch_twins.resnet, stages=(2, 2, 2, 2),
                                                                  bottleneck=False)),
    "resnet_bottleneck": (one_block_per_stage(A.resnet.bottleneck_block), {}, (32, 32, 3),
                          functools.partial(torch_twins.resnet, stages=(1, 1, 1, 1), bottleneck=True)),
    "resnext_32x4d": (one_block_per_stage(A.resnext.resnext_block), {}, (32, 32, 3),
                      functools.partial(torch_twins.resnet, stages=(1, 1, 1, 1), bottleneck=True, groups=32)),
    "se_resnet": (one_block_per_stage(A.senet.se_bottleneck_block), {}, (32, 32, 3),
                  functools.partial(torch_twins.resnet, stages=(1, 1, 1, 1), bottleneck=True, squeeze_excite=True)),
    "resnet20": (A.ResNet20, {}, (32, 32, 3), functools.partial(torch_twins.cifar_resnet, n=3)),
    "densenet": (A.DenseNet, {"blocks": (2, 2, 2, 2)}, (32, 32, 3),
                 functools.partial(torch_twins.densenet, blocks=(2, 2, 2, 2))),
    "mobilenet": (A.MobileNet, {"alpha": 0.5}, (32, 32, 3),
                  functools.partial(torch_twins.mobilenet, blocks=A.mobilenet.BLOCKS)),
}


@pytest.mark.parametrize("case", CASES)
def test_logits_match_the_torch_twin(case):
    constructor, kwargs, input_shape, twin = CASES[case]
    rng = np.random.default_rng(0)
    model = constructor(input_shape=input_shape, classes=7, classifier_activation=None, **kwargs)
    randomize(model, rng)
    x = rng.standard_normal((2,) + input_shape).astype("float32")
    ours = model.predict(x, verbose=0)
    with torch.no_grad():
        expected = twin(model, torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()).numpy()
    assert ours.shape == expected.shape == (2, 7)
    np.testing.assert_allclose(ours, expected, rtol=1e-3, atol=1e-4 * max(1.0, np.abs(expected).max()))
