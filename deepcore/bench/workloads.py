"""The benchmark workloads, each written once as a list of layers and built for deepcore and for PyTorch.

A workload's ``layers`` is a tuple of the small descriptions below; two
translators turn it into a Keras-style deepcore model (NHWC, as a user would
write it with ``dc.Sequential`` or, for ResNet's skip connections,
``dc.Model(inputs, outputs)``) and into an equivalent ``torch.nn.Module``
(NCHW). The two have the same layers and the same parameter counts (a test
checks it); initial values differ, which does not matter for throughput.

Conventions shared by both sides:
- the last Dense has ``activation='softmax'`` in deepcore and the loss is
  ``'sparse_categorical_crossentropy'`` (deepcore fuses softmax and the loss,
  as Keras does); torch ends in logits with ``CrossEntropyLoss``, and its
  inference step applies the softmax, so both do the same work;
- BatchNormalization uses Keras' defaults (momentum 0.99, epsilon 1e-3); the
  torch side gets the same (``momentum=0.01, eps=1e-3``);
- ``padding='same'`` with stride 2 pads (0, 1) in deepcore/Keras and (1, 1)
  in torch: same output shapes and FLOPs, shifted sampling grid;
- ResNet-20 (He et al. 2016, section 4.2, CIFAR-10): 3 stages x 3 basic
  blocks, 16/32/64 filters; where the shape changes the shortcut is a
  projection, 1x1 conv stride 2 + BatchNorm (option B), not option A's
  zero-padded identity.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Conv:
    filters: int
    kernel: int
    strides: int = 1
    padding: str = "valid"
    activation: str | None = None
    use_bias: bool = True


@dataclasses.dataclass(frozen=True)
class Dense:
    units: int
    activation: str | None = None


@dataclasses.dataclass(frozen=True)
class Pool:
    kind: str  # "max" or "average"
    size: int = 2


@dataclasses.dataclass(frozen=True)
class Residual:
    """Basic block: conv3x3(strides)-BN-ReLU-conv3x3-BN + shortcut, then ReLU."""

    filters: int
    strides: int = 1


BATCH_NORM, RELU, FLATTEN, GLOBAL_AVERAGE_POOL = "batch_norm", "relu", "flatten", "global_average_pool"


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    title: str
    input_shape: tuple  # one sample, channels last, as Keras' Input(shape=...)
    batch_size: int
    classes: int
    layers: tuple

    @property
    def residual(self) -> bool:
        return any(isinstance(layer, Residual) for layer in self.layers)


def _conv_bn_relu(filters):
    return (Conv(filters, 3, padding="same", use_bias=False), BATCH_NORM, RELU)


def _resnet_stage(filters, strides, blocks=3):
    return (Residual(filters, strides),) + (Residual(filters),) * (blocks - 1)


WORKLOADS = {w.name: w for w in (
    Workload("mlp", "MLP 784-256-256-10", (784,), 128, 10,
             (Dense(256, "relu"), Dense(256, "relu"), Dense(10, "softmax"))),
    Workload("lenet5", "LeNet-5 (ReLU, average pooling)", (28, 28, 1), 128, 10,
             (Conv(6, 5, padding="same", activation="relu"), Pool("average"),
              Conv(16, 5, activation="relu"), Pool("average"), FLATTEN,
              Dense(120, "relu"), Dense(84, "relu"), Dense(10, "softmax"))),
    Workload("mnist_cnn", "MNIST CNN (seed: conv20-pool-conv50-pool-500-10)", (28, 28, 1), 64, 10,
             (Conv(20, 5, activation="relu"), Pool("max"), Conv(50, 5, activation="relu"), Pool("max"),
              FLATTEN, Dense(500, "relu"), Dense(10, "softmax"))),
    Workload("cifar_cnn_bn", "CIFAR CNN + BatchNorm (32/64/128)", (32, 32, 3), 128, 10,
             _conv_bn_relu(32) * 2 + (Pool("max"),) + _conv_bn_relu(64) * 2 + (Pool("max"),)
             + _conv_bn_relu(128) * 2 + (Pool("max"), GLOBAL_AVERAGE_POOL, Dense(10, "softmax"))),
    Workload("resnet20", "ResNet-20 (CIFAR, projection shortcuts)", (32, 32, 3), 128, 10,
             _conv_bn_relu(16) + _resnet_stage(16, 1) + _resnet_stage(32, 2) + _resnet_stage(64, 2)
             + (GLOBAL_AVERAGE_POOL, Dense(10, "softmax"))),
)}


# --- deepcore ----------------------------------------------------------------------------------

def build_deepcore(workload: Workload):
    """The Keras-style model, uncompiled, on the current device."""
    import deepcore as dc

    if not workload.residual:
        return dc.Sequential([dc.Input(shape=workload.input_shape),
                              *(_deepcore_layer(dc, layer) for layer in workload.layers)], name=workload.name)
    inputs = dc.Input(shape=workload.input_shape)
    x = inputs
    for layer in workload.layers:
        x = _deepcore_residual(dc, layer, x) if isinstance(layer, Residual) else _deepcore_layer(dc, layer)(x)
    return dc.Model(inputs, x, name=workload.name)


def _deepcore_layer(dc, layer):
    L = dc.layers
    if isinstance(layer, Conv):
        return L.Conv2D(layer.filters, layer.kernel, strides=layer.strides, padding=layer.padding,
                        activation=layer.activation, use_bias=layer.use_bias)
    if isinstance(layer, Dense):
        return L.Dense(layer.units, activation=layer.activation)
    if isinstance(layer, Pool):
        return (L.MaxPooling2D if layer.kind == "max" else L.AveragePooling2D)(layer.size)
    return {BATCH_NORM: L.BatchNormalization, RELU: L.ReLU, FLATTEN: L.Flatten,
            GLOBAL_AVERAGE_POOL: L.GlobalAveragePooling2D}[layer]()


def _deepcore_residual(dc, block: Residual, x):
    L = dc.layers
    y = L.Conv2D(block.filters, 3, strides=block.strides, padding="same", use_bias=False)(x)
    y = L.ReLU()(L.BatchNormalization()(y))
    y = L.BatchNormalization()(L.Conv2D(block.filters, 3, padding="same", use_bias=False)(y))
    if block.strides != 1 or x.shape[-1] != block.filters:
        x = L.Conv2D(block.filters, 1, strides=block.strides, use_bias=False)(x)
        x = L.BatchNormalization()(x)
    return L.ReLU()(L.Add()([y, x]))


def deepcore_parameter_count(model) -> dict:
    """Trainable and total (with BatchNorm's moving statistics) scalar counts."""
    def count(weights):
        total = 0
        for weight in weights:
            size = 1
            for n in weight.shape:
                size *= int(n)
            total += size
        return total

    return {"trainable": count(model.trainable_weights), "total": count(model.weights)}


# --- torch -------------------------------------------------------------------------------------

def build_torch(workload: Workload):
    """The same architecture as a ``torch.nn.Module`` taking NCHW (or (N, features)) input."""
    import torch.nn as nn

    shape = _channels_first(workload.input_shape)
    modules = []
    for layer in workload.layers:
        module, shape = _torch_layer(nn, layer, shape)
        modules.append(module)
    return nn.Sequential(*modules)


def _channels_first(shape):
    return (shape[-1], *shape[:-1]) if len(shape) == 3 else tuple(shape)


def _torch_activation(nn, name):
    return {None: None, "softmax": None, "relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}[name]


def _same_padding(size, kernel, strides):
    """Symmetric torch padding giving Keras' 'same' output size ceil(size / strides)."""
    pad = kernel // 2
    if kernel % 2 == 0 or (size + 2 * pad - kernel) // strides + 1 != -(-size // strides):
        raise ValueError(f"torch twin: no symmetric padding matches 'same' for size {size}, "
                         f"kernel {kernel}, strides {strides}")
    return pad


def _torch_conv(nn, layer: Conv, shape):
    channels, height, width = shape
    pad = _same_padding(height, layer.kernel, layer.strides) if layer.padding == "same" else 0
    conv = nn.Conv2d(channels, layer.filters, layer.kernel, stride=layer.strides, padding=pad, bias=layer.use_bias)
    height, width = ((n + 2 * pad - layer.kernel) // layer.strides + 1 for n in (height, width))
    return conv, (layer.filters, height, width)


def _torch_batch_norm(nn, channels):
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)  # Keras' epsilon and momentum 0.99


def _torch_layer(nn, layer, shape):
    """(module, output shape) for one description, ``shape`` being the NCHW shape of one sample."""
    if isinstance(layer, Conv):
        conv, shape = _torch_conv(nn, layer, shape)
        activation = _torch_activation(nn, layer.activation)
        return (conv if activation is None else nn.Sequential(conv, activation)), shape
    if isinstance(layer, Dense):
        linear = nn.Linear(shape[0], layer.units)
        activation = _torch_activation(nn, layer.activation)
        return (linear if activation is None else nn.Sequential(linear, activation)), (layer.units,)
    if isinstance(layer, Pool):
        pool = nn.MaxPool2d(layer.size) if layer.kind == "max" else nn.AvgPool2d(layer.size)
        return pool, (shape[0], shape[1] // layer.size, shape[2] // layer.size)
    if isinstance(layer, Residual):
        block = _torch_residual(nn, shape[0], layer)
        return block, block.output_shape(shape)
    if layer == BATCH_NORM:
        return _torch_batch_norm(nn, shape[0]), shape
    if layer == RELU:
        return nn.ReLU(), shape
    if layer == FLATTEN:
        size = 1
        for n in shape:
            size *= n
        return nn.Flatten(), (size,)
    if layer == GLOBAL_AVERAGE_POOL:
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), (shape[0],)
    raise ValueError(f"unknown layer description {layer!r}")


def _torch_residual(nn, channels, block: Residual):
    """A basic block as an ``nn.Module`` (built lazily so torch stays an optional import)."""
    class BasicBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, block.filters, 3, stride=block.strides, padding=1, bias=False)
            self.bn1 = _torch_batch_norm(nn, block.filters)
            self.conv2 = nn.Conv2d(block.filters, block.filters, 3, padding=1, bias=False)
            self.bn2 = _torch_batch_norm(nn, block.filters)
            self.relu = nn.ReLU()
            self.shortcut = nn.Identity()
            if block.strides != 1 or channels != block.filters:
                self.shortcut = nn.Sequential(nn.Conv2d(channels, block.filters, 1, stride=block.strides, bias=False),
                                              _torch_batch_norm(nn, block.filters))

        def forward(self, x):
            y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(y + self.shortcut(x))

        def output_shape(self, shape):
            return (block.filters, -(-shape[1] // block.strides), -(-shape[2] // block.strides))

    return BasicBlock()


def torch_parameter_count(model) -> dict:
    """Trainable and total, counting BatchNorm's running mean and variance as Keras counts its moving ones."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    statistics = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return {"trainable": trainable, "total": sum(p.numel() for p in model.parameters()) + statistics}
