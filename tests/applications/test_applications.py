"""The model zoo: parameter counts against the published ones, output shapes, arguments, one training step."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import applications as A
from deepcore import initializers


@pytest.fixture
def unsampled_weights(monkeypatch):
    """Zeros instead of random initial weights: counting needs only the shapes, and sampling VGG19's 143M
    weights takes seconds."""
    monkeypatch.setattr(initializers.Initializer, "__call__", lambda self, shape, dtype="float32":
                        np.zeros(shape, dtype))


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# (constructor, arguments, trainable parameters, all weights, source). PyTorch counts parameters(), which
# leaves out batch norm's moving mean and variance; Keras' count_params() counts them, as ours does.
PUBLISHED = {
    "LeNet5": (A.LeNet5, {}, 61_706, 61_706,
               "LeCun et al. 1998 II-B: C1 156, C5 48,120, F6 10,164 (checked per layer below); C3 fully "
               "connected 2,416 (the paper's partial table: 1,516) and a Dense output (850) for the RBF units"),
    "AlexNet": (A.AlexNet, {}, 60_965_224, 60_965_224,
                "Krizhevsky et al. 2012 '60 million'; Caffe bvlc_alexnet (group 2 in conv2, conv4, conv5)"),
    "AlexNet one tower": (A.AlexNet, {"groups": 1}, 62_378_344, 62_378_344,
                          "the same layers without the two-GPU split"),
    "ZFNet": (A.ZFNet, {}, 62_357_608, 62_357_608, "Zeiler & Fergus 2013 figure 3 (no published total; the "
                                                   "torch twin checks the architecture)"),
    "VGG11": (A.VGG11, {}, 132_863_336, 132_863_336, "torchvision vgg11"),
    "VGG13": (A.VGG13, {}, 133_047_848, 133_047_848, "torchvision vgg13"),
    "VGG16": (A.VGG16, {}, 138_357_544, 138_357_544, "Keras VGG16, torchvision vgg16"),
    "VGG19": (A.VGG19, {}, 143_667_240, 143_667_240, "Keras VGG19, torchvision vgg19"),
    "VGG11 BN": (A.VGG11, {"batch_norm": True}, 132_868_840, 132_874_344, "torchvision vgg11_bn"),
    "VGG13 BN": (A.VGG13, {"batch_norm": True}, 133_053_736, 133_059_624, "torchvision vgg13_bn"),
    "VGG16 BN": (A.VGG16, {"batch_norm": True}, 138_365_992, 138_374_440, "torchvision vgg16_bn"),
    "VGG19 BN": (A.VGG19, {"batch_norm": True}, 143_678_248, 143_689_256, "torchvision vgg19_bn"),
    "GoogLeNet": (A.GoogLeNet, {}, 6_998_552, 6_998_552,
                  "Caffe bvlc_googlenet without the auxiliary classifiers (torchvision's 6,624,904 is another "
                  "network: batch norm, no conv biases, 3x3 convolutions in the 5x5 branches)"),
    "ResNet18": (A.ResNet18, {}, 11_689_512, 11_699_112, "torchvision resnet18"),
    "ResNet34": (A.ResNet34, {}, 21_797_672, 21_814_696, "torchvision resnet34"),
    "ResNet50": (A.ResNet50, {}, 25_557_032, 25_610_152,
                 "torchvision resnet50 (Keras' ResNet50, 25,636,712, adds 26,560 conv biases before batch norm)"),
    "ResNet101": (A.ResNet101, {}, 44_549_160, 44_654_504, "torchvision resnet101"),
    "ResNet152": (A.ResNet152, {}, 60_192_808, 60_344_232, "torchvision resnet152"),
    "ResNeXt50": (A.ResNeXt50, {}, 25_028_904, 25_097_128, "torchvision resnext50_32x4d"),
    "SEResNet50": (A.SEResNet50, {}, 28_088_024, 28_141_144,
                   "Hu et al.'s released SE-ResNet-50 as ported by Cadene/pretrained-models.pytorch (se_resnet50)"),
    "DenseNet121": (A.DenseNet121, {}, 7_978_856, 8_062_504,
                    "torchvision densenet121 (trainable), Keras DenseNet121 (all weights)"),
    "DenseNet169": (A.DenseNet169, {}, 14_149_480, 14_307_880, "torchvision densenet169, Keras DenseNet169"),
    "DenseNet201": (A.DenseNet201, {}, 20_013_928, 20_242_984, "torchvision densenet201, Keras DenseNet201"),
    "MobileNet": (A.MobileNet, {}, 4_231_976, 4_253_864, "Keras MobileNet (alpha 1.0)"),
    "ResNet20": (A.ResNet20, {}, 269_722, 271_098,
                 "He et al. 2016 table 6: 0.27M; exact: akamaster/pytorch_resnet_cifar10 (option A shortcuts)"),
    "ResNet32": (A.ResNet32, {}, 464_154, 466_426, "table 6: 0.46M; akamaster/pytorch_resnet_cifar10"),
    "ResNet56": (A.ResNet56, {}, 853_018, 857_082, "table 6: 0.85M; akamaster/pytorch_resnet_cifar10"),
}


@pytest.mark.parametrize("case", PUBLISHED)
def test_parameter_counts_are_the_published_ones(case, unsampled_weights):
    constructor, kwargs, trainable, total, _source = PUBLISHED[case]
    model = constructor(**kwargs)  # the default ImageNet (CIFAR, MNIST) input; building runs no forward pass
    assert (trainable_count(model), model.count_params()) == (trainable, total)


def test_lenet5_layers_have_the_papers_counts():
    model = A.LeNet5()
    counts = {layer.name: layer.count_params() for layer in model.layers}
    assert (counts["c1"], counts["c3"], counts["c5"], counts["fc1"]) == (156, 2_416, 48_120, 10_164)


# constructor, arguments, a small input, channels of the last feature map
SMALL = {
    "LeNet5": (A.LeNet5, {}, (32, 32, 1), 120),
    "AlexNet": (A.AlexNet, {}, (67, 67, 3), 256),
    "ZFNet": (A.ZFNet, {}, (63, 63, 3), 256),
    "VGG11": (A.VGG11, {}, (32, 32, 3), 512),
    "VGG11 BN": (A.VGG11, {"batch_norm": True}, (32, 32, 3), 512),
    "GoogLeNet": (A.GoogLeNet, {}, (32, 32, 3), 1024),
    "ResNet18": (A.ResNet18, {}, (32, 32, 3), 512),
    "ResNet20": (A.ResNet20, {}, (32, 32, 3), 64),
    "ResNeXt50": (A.ResNeXt50, {}, (32, 32, 3), 2048),
    "SEResNet50": (A.SEResNet50, {}, (32, 32, 3), 2048),
    "DenseNet121": (A.DenseNet121, {}, (32, 32, 3), 1024),
    "MobileNet": (A.MobileNet, {"alpha": 0.25}, (32, 32, 3), 256),
}


@pytest.mark.parametrize("case", SMALL)
def test_output_shapes(case, unsampled_weights):
    constructor, kwargs, input_shape, channels = SMALL[case]
    assert constructor(input_shape=input_shape, classes=7, **kwargs).outputs[0].shape == (None, 7)
    features = constructor(input_shape=input_shape, include_top=False, **kwargs).outputs[0].shape
    assert features[0] is None and len(features) == 4 and features[-1] == channels
    for pooling in ("avg", "max"):
        model = constructor(input_shape=input_shape, include_top=False, pooling=pooling, **kwargs)
        assert model.outputs[0].shape == (None, channels)
        assert model.layers[-1].name == f"{pooling}_pool"


def test_without_the_top_any_image_size_is_accepted(unsampled_weights):
    model = A.ResNet18(include_top=False, pooling="avg")
    assert model.inputs[0].shape == (None, None, None, 3) and model.outputs[0].shape == (None, 512)
    assert model.predict(np.zeros((1, 40, 56, 3), "float32"), verbose=0).shape == (1, 512)


def test_input_tensor_is_used_and_its_source_input_becomes_the_models():
    inputs = dc.Input((32, 32, 3))
    scaled = dc.layers.Rescaling(1 / 255)(inputs)
    model = A.ResNet20(input_tensor=scaled, classes=4)
    assert model.inputs == [inputs] and model.outputs[0].shape == (None, 4)


@pytest.mark.parametrize("case", SMALL)
def test_one_training_step(case):
    """The smallest network of each family learns: after one SGD step on a batch every trainable weight
    has moved, the loss is finite, and batch-norm statistics (where there are any) were updated."""
    constructor, kwargs, input_shape, _ = SMALL[case]
    rng = np.random.default_rng(0)
    model = constructor(input_shape=input_shape, classes=3, **kwargs)
    model.compile(optimizer=dc.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    x, y = rng.standard_normal((2,) + input_shape).astype("float32"), np.array([0, 2])
    before = [w.numpy().copy() for w in model.weights]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    moved = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.weights)]
    assert all(moved), [w.name for w, m in zip(model.weights, moved) if not m]


def test_a_zoo_model_saves_and_loads(tmp_path):
    model = A.ResNet20(classes=3)  # zero-padded shortcuts: MaxPooling2D(1, 2), Permute, ZeroPadding2D
    x = np.random.default_rng(0).standard_normal((2, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "resnet20.keras")
    loaded = dc.models.load_model(tmp_path / "resnet20.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("call, message", [
    (lambda: A.ResNet50(weights="imagenet"), "weights must be None"),
    (lambda: A.VGG16(include_top=False, pooling="mean"), "pooling must be None, 'avg' or 'max'"),
    (lambda: A.DenseNet121(classes=0), "classes must be a positive int"),
    (lambda: A.ResNet18(input_shape=(None, None, 3)), "include_top=True needs a static input_shape"),
    (lambda: A.ResNet18(input_shape=(16, 16, 3)), "at least 32"),
    (lambda: A.GoogLeNet(input_shape=(224, 224)), r"input_shape must be \(height, width, channels\)"),
    (lambda: A.vgg(12), "depth must be one of"),
    (lambda: A.cifar_resnet(21), "depth must be 6n"),
    (lambda: A.ZFNet(conv_filters=(512, 1024)), "conv_filters must be 3 numbers"),
    (lambda: A.MobileNet(alpha=0), "alpha must be a positive number"),
    (lambda: A.SEResNet50(include_top=False, input_shape=(None, None, 3)), "needs a static height and width"),
    (lambda: A.AlexNet(input_shape=(32, 32, 3)), "at least 67"),
])
def test_bad_arguments_raise_clear_errors(call, message, unsampled_weights):
    with pytest.raises(ValueError, match=message):
        call()


def test_input_tensor_must_be_symbolic():
    with pytest.raises(TypeError, match="input_tensor must be a symbolic image tensor"):
        A.ResNet20(input_tensor=np.zeros((1, 32, 32, 3)))
