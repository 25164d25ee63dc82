"""GoogLeNet / Inception v1 (Szegedy et al. 2015, "Going deeper with convolutions"), as Caffe's
bvlc_googlenet that the paper's table 1 describes."""
from __future__ import annotations

from .. import layers
from .common import check_arguments, functional_model, model_input, pooled_classifier

# table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj; a 3x3/2 max pooling before 4a and 5a
MODULES = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
           "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
           "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
           "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128)}


def _conv(x, filters, kernel_size, name, strides=1, padding="same"):
    return layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, activation="relu", name=name)(x)


def _max_pool(x, name):
    # 'same' rounds up like Caffe's ceil-mode pooling: on the even maps of a 224 input (112 -> 56 -> 28 -> 14
    # -> 7) both pad only after, so the windows are Caffe's
    return layers.MaxPooling2D(3, strides=2, padding="same", name=name)(x)


def _lrn(x, name):
    # Caffe's LRN (k=1, alpha/n with alpha=1e-4, n=5) in TensorFlow's parameters
    return layers.LRN(depth_radius=2, bias=1.0, alpha=1e-4 / 5, beta=0.75, name=name)(x)


def inception_module(x, filters, name):
    """Four branches side by side, concatenated on channels (figure 2b): 1x1; 1x1 reduction then 3x3;
    1x1 reduction then 5x5; 3x3 max pooling then a 1x1 projection."""
    n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = filters
    branch1 = _conv(x, n1x1, 1, f"{name}_1x1")
    branch2 = _conv(_conv(x, n3x3_reduce, 1, f"{name}_3x3_reduce"), n3x3, 3, f"{name}_3x3")
    branch3 = _conv(_conv(x, n5x5_reduce, 1, f"{name}_5x5_reduce"), n5x5, 5, f"{name}_5x5")
    branch4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch4 = _conv(branch4, pool_proj, 1, f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_output")([branch1, branch2, branch3, branch4])


def GoogLeNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="googlenet"):
    """GoogLeNet without its two auxiliary classifiers (only for training, section 5): convolutions with
    bias and ReLU, LRN after pool1 and conv2, nine Inception modules, global average pooling, dropout 0.4,
    one Dense layer; 6,998,552 parameters. (torchvision's googlenet, 6,624,904 parameters, differs: batch
    normalization instead of LRN and conv biases, and 3x3 convolutions where the 5x5 ones are.)
    """
    check_arguments("GoogLeNet", weights, pooling, classes)
    inputs = model_input("GoogLeNet", input_tensor, input_shape, include_top, 224)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = _conv(x, 64, 7, "conv1_7x7", strides=2, padding="valid")
    x = _lrn(_max_pool(x, "pool1"), "norm1")
    x = _conv(x, 64, 1, "conv2_3x3_reduce")
    x = _max_pool(_lrn(_conv(x, 192, 3, "conv2_3x3"), "norm2"), "pool2")
    for module, filters in MODULES.items():
        if module in ("4a", "5a"):
            x = _max_pool(x, f"pool{module[0]}")
        x = inception_module(x, filters, f"inception{module}")
    x = pooled_classifier(x, include_top, pooling, classes, classifier_activation, dropout=0.4)
    return functional_model(inputs, x, name)


InceptionV1 = GoogLeNet
