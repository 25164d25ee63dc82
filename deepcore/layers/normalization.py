"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization (Keras 3) and
LRN (AlexNet's local response normalization; not in Keras)."""
from __future__ import annotations

from .. import activations, initializers, ops, regularizers
from ..autograd import arithmetic as A
from ..autograd.function import no_grad
from ..backend import get_array_module
from ..ops.normalization import group_norm, layer_norm, local_response_norm
from .activation import number
from .base import Layer, positive_int


def check_axis(layer, axis, rank):
    """A valid non-batch axis of an input of ``rank`` dimensions, as a positive int."""
    if isinstance(axis, bool) or not isinstance(axis, int) or not -rank <= axis < rank or axis % rank == 0:
        raise ValueError(f"{layer.describe()}: axis must be a non-batch axis of an input of rank {rank}, "
                         f"got {axis!r}")
    return axis % rank


class _Affine(Layer):
    """Keras' center/scale arguments: a learned beta (shift) and gamma (scale), each optional."""

    def _init_affine(self, epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                     gamma_regularizer):
        self.epsilon = number(self.describe(), "epsilon", epsilon)
        if self.epsilon <= 0:
            raise ValueError(f"{self.describe()}: epsilon must be > 0, got {epsilon!r}")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _add_affine(self, shape):
        self.gamma = self.add_weight(shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     name="gamma") if self.scale else None
        self.beta = self.add_weight(shape, self.beta_initializer, regularizer=self.beta_regularizer,
                                    name="beta") if self.center else None

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer)}


class BatchNormalization(_Affine):
    """Normalizes each feature along ``axis`` over the batch (and every other axis).

    In training it uses the batch's mean and biased variance and updates
    ``moving = moving * momentum + batch * (1 - momentum)``; at inference it uses the moving statistics.
    Weights as Keras: [gamma (if scale), beta (if center), moving_mean, moving_variance].
    ``synchronized=True`` (Keras): under ``dc.distribute.DataParallel`` the statistics are those of the
    global batch over every rank; without a distributed world it changes nothing.
    ``call(..., fused_relu=True)`` (not in Keras) returns max(y, 0) from the fused BatchNorm+ReLU kernels;
    models call it so when a plain ReLU is this layer's only consumer (``fuses_relu``).
    """

    input_min_ndim = 2

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.synchronized = bool(synchronized)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"{self.describe()}: axis must be an int, got {axis!r}")
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"{self.describe()}: expected 0 <= momentum <= 1, got momentum={momentum!r}")
        self.axis, self.momentum = axis, float(momentum)
        self._init_affine(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                          gamma_regularizer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape):
        self._axis = check_axis(self, self.axis, len(input_shape))
        features = (input_shape[self._axis],)
        self._add_affine(features)
        self.moving_mean = self.add_weight(features, self.moving_mean_initializer, trainable=False,
                                           name="moving_mean")
        self.moving_variance = self.add_weight(features, self.moving_variance_initializer, trainable=False,
                                               name="moving_variance")

    def call(self, inputs, training=None, fused_relu=False):
        last = inputs.ndim - 1
        order = None if self._axis == last else \
            [i for i in range(inputs.ndim) if i != self._axis] + [self._axis]
        x = inputs if order is None else A.transpose(inputs, order)  # the kernels normalize the last axis
        xp = get_array_module(self.moving_mean.data)
        gamma = self.gamma if self.gamma is not None else xp.ones(self.moving_mean.shape, x.dtype)
        beta = self.beta if self.beta is not None else xp.zeros(self.moving_mean.shape, x.dtype)
        if training and self.trainable:
            if self.synchronized:
                from ..distribute.sync_batch_norm import synchronized_batch_norm
                y, mean, variance = synchronized_batch_norm(x, gamma, beta, self.epsilon)
                y = ops.relu(y) if fused_relu else y
            else:
                train = ops.batch_norm_relu if fused_relu else ops.batch_norm_train
                y, mean, variance = train(x, gamma, beta, self.epsilon)
            with no_grad():
                for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
                    moving.data *= self.momentum
                    moving.data += (1 - self.momentum) * batch.astype(moving.dtype, copy=False)
        else:
            infer = ops.batch_norm_relu_infer if fused_relu else ops.batch_norm_infer
            y = infer(x, gamma, beta, self.moving_mean.data, self.moving_variance.data, self.epsilon)
        if order is None:
            return y
        inverse = sorted(range(len(order)), key=order.__getitem__)
        return A.transpose(y, inverse)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "synchronized": self.synchronized,
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer)}


def is_plain_relu(layer):
    """Does ``layer`` compute max(x, 0) and nothing else? ``ReLU()`` with its defaults or ``Activation('relu')``
    (exactly those classes), without an activity regularizer."""
    from .activation import ReLU
    from .core import Activation
    if layer.activity_regularizer is not None:
        return False
    if type(layer) is ReLU:
        return layer.max_value is None and layer.negative_slope == 0 and layer.threshold == 0
    return type(layer) is Activation and layer.activation is activations.get("relu")


def fuses_relu(layer, consumer):
    """May a model run ``layer`` followed by ``consumer`` as one fused op, ``layer(..., fused_relu=True)``?
    BatchNormalization (not synchronized) or Add, followed by a plain ReLU. The model also checks that nothing
    else reads the layer's output (models/model.py, sequential.py)."""
    from .merging import Add
    fusable = (type(layer) is BatchNormalization and not layer.synchronized) or type(layer) is Add
    return fusable and layer.activity_regularizer is None and is_plain_relu(consumer)


class LayerNormalization(_Affine):
    """Ba et al. 2016: normalizes each sample over ``axis`` (an int or a list); gamma/beta have the shape
    of those axes."""

    input_min_ndim = 2
    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if rms_scaling:
            raise ValueError(f"{self.describe()}: rms_scaling=True is not supported")
        axes = [axis] if isinstance(axis, int) else list(axis) if isinstance(axis, (list, tuple)) else None
        if not axes or any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
            raise ValueError(f"{self.describe()}: axis must be an int or a list of ints, got {axis!r}")
        self.axis, self.rms_scaling = axis if isinstance(axis, int) else axes, False
        self._init_affine(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                          gamma_regularizer)

    def build(self, input_shape):
        rank = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        self._axes = tuple(sorted(check_axis(self, a, rank) for a in axes))
        self._add_affine(tuple(input_shape[a] for a in self._axes))
        # gamma/beta broadcast as (1, ..., size on each normalized axis, ..., 1) without the batch axis
        self._broadcast = tuple(input_shape[a] if a in self._axes else 1 for a in range(1, rank))

    def call(self, inputs, training=None):
        shaped = lambda w: None if w is None else A.reshape(w, self._broadcast)
        return layer_norm(inputs, shaped(self.gamma), shaped(self.beta), self._axes, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "rms_scaling": False}


class GroupNormalization(_Affine):
    """Wu & He 2018: per sample, normalizes groups of channels/groups consecutive channels over every
    non-batch axis; gamma/beta per channel. Channels are the last axis (axis=-1 only)."""

    input_min_ndim = 2

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.groups = positive_int(self.describe(), "groups", groups)
        if axis != -1:
            raise ValueError(f"{self.describe()}: only axis=-1 (channels last) is supported, got {axis!r}")
        self.axis = axis
        self._init_affine(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                          gamma_regularizer)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels < self.groups or channels % self.groups:
            raise ValueError(f"{self.describe()}: the number of channels ({channels}) must be a multiple of "
                             f"groups ({self.groups})")
        self._add_affine((channels,))

    def call(self, inputs, training=None):
        return group_norm(inputs, self.groups, self.gamma, self.beta, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis}


class LRN(Layer):
    """Local response normalization over the channel (last) axis, AlexNet's formula
    (Krizhevsky et al. 2012, section 3.3):

        y[..., c] = x[..., c] / (bias + alpha * sum_{|j - c| <= depth_radius} x[..., j]^2) ** beta

    The defaults are AlexNet's (n = 5, k = 2, alpha = 1e-4, beta = 0.75), and the argument names
    ``tf.nn.local_response_normalization``'s. PyTorch's LocalResponseNorm divides alpha by n = 2r + 1.
    """

    input_min_ndim = 2

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        if isinstance(depth_radius, bool) or not isinstance(depth_radius, int) or depth_radius < 0:
            raise ValueError(f"{who}: depth_radius must be an int >= 0, got {depth_radius!r}")
        self.depth_radius = depth_radius
        self.bias = number(who, "bias", bias)
        self.alpha = number(who, "alpha", alpha)
        self.beta = number(who, "beta", beta)
        if self.bias <= 0 or self.alpha < 0:
            raise ValueError(f"{who}: expected bias > 0 and alpha >= 0, got bias={bias!r}, alpha={alpha!r}")

    def call(self, inputs, training=None):
        return local_response_norm(inputs, self.depth_radius, self.bias, self.alpha, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias, "alpha": self.alpha,
                "beta": self.beta}


LocalResponseNormalization = LRN
