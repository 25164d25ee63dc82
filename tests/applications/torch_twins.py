"""The zoo's architectures written again in PyTorch (NCHW, torch's own padding and pooling rules), reading
their weights from a deepcore model by layer name. Each follows its reference implementation: torchvision
(ResNet, ResNeXt, DenseNet, VGG-BN), Caffe's prototxt (AlexNet, GoogLeNet), Cadene's SENet, akamaster's CIFAR
ResNet, Keras (MobileNet). Every function returns the logits of ``model`` for the NCHW batch ``x``."""
import numpy as np
import torch
import torch.nn.functional as F

EPSILON = 1.001e-5


class Weights:
    def __init__(self, model):
        self.model = model
        self.names = {layer.name for layer in model.layers}

    def __call__(self, name):
        return [torch.from_numpy(np.asarray(w)) for w in self.model.get_layer(name).get_weights()]

    def conv(self, x, name, stride=1, padding=0, groups=1):
        kernel, *bias = self(name)  # (kh, kw, in / groups, out) -> (out, in / groups, kh, kw)
        return F.conv2d(x, kernel.permute(3, 2, 0, 1), bias[0] if bias else None, stride, padding, groups=groups)

    def depthwise(self, x, name, stride=1):
        kernel, = self(name)  # (kh, kw, in, 1) -> (in, 1, kh, kw)
        return F.conv2d(x, kernel.permute(2, 3, 0, 1), None, stride, 0, groups=x.shape[1])

    def bn(self, x, name, epsilon=EPSILON):
        gamma, beta, mean, variance = self(name)
        return F.batch_norm(x, mean, variance, gamma, beta, False, 0.0, epsilon)

    def dense(self, x, name):
        kernel, bias = self(name)
        return F.linear(x, kernel.T, bias)

    def conv_bn(self, x, name, stride=1, padding=0, groups=1, relu=True):
        x = self.bn(self.conv(x, f"{name}_conv", stride, padding, groups), f"{name}_bn")
        return F.relu(x) if relu else x


def flatten_nhwc(x):
    return x.permute(0, 2, 3, 1).flatten(1)  # deepcore flattens channels last


def fully_connected(w, x, hidden_activation=F.relu, hidden=2):
    x = flatten_nhwc(x)
    for i in range(1, hidden + 1):
        x = hidden_activation(w.dense(x, f"fc{i}"))
    return w.dense(x, "predictions")


def lenet5(model, x):
    w = Weights(model)
    x = F.avg_pool2d(torch.tanh(w.conv(x, "c1")), 2)
    x = F.avg_pool2d(torch.tanh(w.conv(x, "c3")), 2)
    return fully_connected(w, torch.tanh(w.conv(x, "c5")), torch.tanh, hidden=1)


def alexnet(model, x, groups=2):
    w = Weights(model)  # LRN: torch divides alpha by the size, the paper does not
    lrn = lambda x: F.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0)
    x = F.max_pool2d(lrn(F.relu(w.conv(x, "conv1", stride=4))), 3, 2)
    x = F.max_pool2d(lrn(F.relu(w.conv(x, "conv2", padding=2, groups=groups))), 3, 2)
    x = F.relu(w.conv(x, "conv3", padding=1))
    x = F.relu(w.conv(x, "conv4", padding=1, groups=groups))
    x = F.max_pool2d(F.relu(w.conv(x, "conv5", padding=1, groups=groups)), 3, 2)
    return fully_connected(w, x)


def zfnet(model, x):
    w = Weights(model)
    lrn = lambda x: F.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0)
    x = lrn(F.max_pool2d(F.relu(w.conv(x, "conv1", stride=2, padding=1)), 3, 2, ceil_mode=True))
    x = lrn(F.max_pool2d(F.relu(w.conv(x, "conv2", stride=2)), 3, 2, ceil_mode=True))
    for name in ("conv3", "conv4", "conv5"):
        x = F.relu(w.conv(x, name, padding=1))
    return fully_connected(w, F.max_pool2d(x, 3, 2))


def vgg_bn(model, x, blocks):
    w = Weights(model)
    for block, convs in enumerate(blocks, 1):
        for i in range(1, convs + 1):
            name = f"block{block}_conv{i}"
            x = F.relu(w.bn(w.conv(x, name, padding=1), f"{name}_bn"))
        x = F.max_pool2d(x, 2)
    return fully_connected(w, x)


def googlenet(model, x):
    w = Weights(model)
    conv = lambda x, name, k=1: F.relu(w.conv(x, name, padding=k // 2))
    pool = lambda x: F.max_pool2d(x, 3, 2, ceil_mode=True)
    lrn = lambda x: F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=1.0)  # Caffe's LRN
    x = lrn(pool(F.relu(w.conv(x, "conv1_7x7", stride=2, padding=3))))
    x = pool(lrn(conv(conv(x, "conv2_3x3_reduce"), "conv2_3x3", 3)))
    for module in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
        if module in ("4a", "5a"):
            x = pool(x)
        name = f"inception{module}"
        x = torch.cat([conv(x, f"{name}_1x1"),
                       conv(conv(x, f"{name}_3x3_reduce"), f"{name}_3x3", 3),
                       conv(conv(x, f"{name}_5x5_reduce"), f"{name}_5x5", 5),
                       conv(F.max_pool2d(x, 3, 1, 1), f"{name}_pool_proj")], dim=1)
    return w.dense(x.mean((2, 3)), "predictions")


def resnet(model, x, stages, bottleneck, groups=1, squeeze_excite=False):
    """torchvision's ResNet (stride on the 3x3), ResNeXt (groups) and SE-ResNet (Cadene's SE module)."""
    w = Weights(model)
    x = F.max_pool2d(w.conv_bn(x, "conv1", stride=2, padding=3), 3, 2, 1)
    for stage, blocks in enumerate(stages):
        for i in range(blocks):
            name, stride = f"conv{stage + 2}_block{i + 1}", 2 if stage > 0 and i == 0 else 1
            shortcut = x
            if f"{name}_0_conv" in w.names:
                shortcut = w.conv_bn(x, f"{name}_0", stride, relu=False)
            if bottleneck:
                y = w.conv_bn(x, f"{name}_1")
                y = w.conv_bn(y, f"{name}_2", stride, padding=1, groups=groups)
                y = w.conv_bn(y, f"{name}_3", relu=False)
            else:
                y = w.conv_bn(w.conv_bn(x, f"{name}_1", stride, padding=1), f"{name}_2", padding=1, relu=False)
            if squeeze_excite:
                scale = torch.sigmoid(w.dense(F.relu(w.dense(y.mean((2, 3)), f"{name}_se_reduce")),
                                              f"{name}_se_expand"))
                y = y * scale[:, :, None, None]
            x = F.relu(y + shortcut)
    return w.dense(x.mean((2, 3)), "predictions")


def cifar_resnet(model, x, n):
    """akamaster/pytorch_resnet_cifar10's LambdaLayer shortcut (option A), zeros appended after."""
    w = Weights(model)
    x = w.conv_bn(x, "conv1", padding=1)
    for stage in range(3):
        for i in range(n):
            name, stride = f"conv{stage + 2}_block{i + 1}", 2 if stage > 0 and i == 0 else 1
            y = w.conv_bn(w.conv_bn(x, f"{name}_1", stride, padding=1), f"{name}_2", padding=1, relu=False)
            shortcut = x[:, :, ::stride, ::stride]
            shortcut = F.pad(shortcut, (0, 0, 0, 0, 0, y.shape[1] - x.shape[1]))
            x = F.relu(y + shortcut)
    return w.dense(x.mean((2, 3)), "predictions")


def densenet(model, x, blocks):
    w = Weights(model)
    bn_relu = lambda x, name: F.relu(w.bn(x, f"{name}_bn"))
    x = F.max_pool2d(w.conv_bn(x, "conv1", stride=2, padding=3), 3, 2, 1)
    for stage, layers in enumerate(blocks, 2):
        for i in range(1, layers + 1):
            name = f"conv{stage}_block{i}"
            y = w.conv(bn_relu(x, f"{name}_0"), f"{name}_1_conv")
            y = w.conv(bn_relu(y, f"{name}_1"), f"{name}_2_conv", padding=1)
            x = torch.cat([x, y], dim=1)
        if stage < 5:
            x = F.avg_pool2d(w.conv(bn_relu(x, f"pool{stage}"), f"pool{stage}_conv"), 2)
    return w.dense(F.relu(w.bn(x, "bn")).mean((2, 3)), "predictions")


def mobilenet(model, x, blocks):
    """Keras' MobileNet: TensorFlow's 'same' on a strided even input pads bottom/right by one."""
    w = Weights(model)
    bn_relu6 = lambda x, name: F.relu6(w.bn(x, f"{name}_bn", epsilon=1e-3))
    x = bn_relu6(w.conv(F.pad(x, (0, 1, 0, 1)), "conv1", stride=2), "conv1")
    for i, (_, stride) in enumerate(blocks, 1):
        if stride > 1:
            x = F.pad(x, (0, 1, 0, 1))
        x = bn_relu6(w.depthwise(x if stride > 1 else F.pad(x, (1, 1, 1, 1)), f"conv_dw_{i}", stride),
                     f"conv_dw_{i}")
        x = bn_relu6(w.conv(x, f"conv_pw_{i}"), f"conv_pw_{i}")
    return w.conv(x.mean((2, 3), keepdim=True), "conv_preds").flatten(1)
