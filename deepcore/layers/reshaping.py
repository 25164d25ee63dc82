"""Shape layers (channels last): Permute, RepeatVector, ZeroPadding1D/2D/3D, Cropping1D/2D/3D,
UpSampling1D/2D/3D, DepthToSpace, SpaceToDepth."""
from __future__ import annotations

import numpy as np

from .. import ops
from ..ops.upsampling import upsample_bilinear2d, upsample_nearest
from .base import Layer, int_tuple, positive_int
from .convolutional import AXES


def check_channels_last(layer, data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{layer}: only data_format='channels_last' is supported, got {data_format!r}")
    return data_format


def pad_pairs(layer, argument, value, rank):
    """Keras' padding/cropping forms: int, tuple of ``rank`` ints, or ``rank`` (before, after) pairs."""
    def non_negative(v):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{layer}: {argument} must be non-negative ints, got {value!r}")
        return int(v)

    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ((non_negative(value),) * 2,) * rank
    if isinstance(value, (tuple, list)) and rank == 1 and len(value) == 2 and \
            all(not isinstance(v, (tuple, list)) for v in value):
        return ((non_negative(value[0]), non_negative(value[1])),)
    if isinstance(value, (tuple, list)) and len(value) == rank:
        pairs = []
        for v in value:
            if isinstance(v, (tuple, list)) and len(v) == 2:
                pairs.append((non_negative(v[0]), non_negative(v[1])))
            elif not isinstance(v, (tuple, list)):
                pairs.append((non_negative(v),) * 2)
            else:
                break
        else:
            return tuple(pairs)
    raise ValueError(f"{layer}: {argument} must be an int, {rank} ints or {rank} (before, after) pairs, "
                     f"got {value!r}")


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` is 1-indexed, as Keras."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else None
        if dims is None or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"{self.describe()}: dims must be a permutation of 1..rank-1, got {dims!r}")
        self.dims = dims
        self.input_ndim = len(dims) + 1

    def call(self, inputs, training=None):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    input_ndim = 2
    input_axes = "batch, features"

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = positive_int(self.describe(), "n", n)

    def call(self, inputs, training=None):
        return ops.repeat_vector(inputs, self.n)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class _Spatial(Layer):
    """A layer over ``rank`` spatial axes between the batch and channel axes."""

    rank = 2

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.input_ndim, cls.input_axes = cls.rank + 2, AXES[cls.rank]


class _ZeroPadding(_Spatial):
    default = 1

    def __init__(self, padding=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = pad_pairs(self.describe(), "padding", self.default if padding is None else padding,
                                 self.rank)
        self.data_format = check_channels_last(self.describe(), data_format)

    def call(self, inputs, training=None):
        return ops.pad(inputs, ((0, 0),) + self.padding + ((0, 0),))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(None if n is None else n + a + b
                                         for n, (a, b) in zip(input_shape[1:-1], self.padding)) + (input_shape[-1],)

    def get_config(self):
        config = {**super().get_config(), "padding": self.padding}
        return config if self.rank == 1 else {**config, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    rank = 2


class ZeroPadding3D(_ZeroPadding):
    rank = 3


class _Cropping(_Spatial):
    def __init__(self, cropping=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = pad_pairs(self.describe(), "cropping", 1 if cropping is None else cropping, self.rank)
        self.data_format = check_channels_last(self.describe(), data_format)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        index = (slice(None),) + tuple(slice(a, n - b) for n, (a, b) in zip(inputs.shape[1:-1], self.cropping))
        return ops.getitem(inputs, index)

    def compute_output_shape(self, input_shape):
        sizes = tuple(None if n is None else n - a - b for n, (a, b) in zip(input_shape[1:-1], self.cropping))
        if any(s is not None and s < 1 for s in sizes):
            raise ValueError(f"{self.describe()}: cropping {self.cropping} removes everything from an input of "
                             f"shape {tuple(input_shape)}")
        return (input_shape[0],) + sizes + (input_shape[-1],)

    def get_config(self):
        config = {**super().get_config(), "cropping": self.cropping}
        return config if self.rank == 1 else {**config, "data_format": self.data_format}


class Cropping1D(_Cropping):
    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    rank = 3


class _UpSampling(_Spatial):
    def __init__(self, size=2, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = int_tuple(self.describe(), "size", size, self.rank)
        self.data_format = check_channels_last(self.describe(), data_format)
        allowed = ("nearest", "bilinear") if self.rank == 2 else ("nearest",)
        if interpolation not in allowed:
            raise ValueError(f"{self.describe()}: interpolation must be one of {allowed}, got {interpolation!r}")
        self.interpolation = interpolation

    def call(self, inputs, training=None):
        if self.interpolation == "bilinear":
            return upsample_bilinear2d(inputs, self.size)
        return upsample_nearest(inputs, self.size)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(None if n is None else n * s for n, s in zip(input_shape[1:-1], self.size)) \
            + (input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        if self.rank == 1:
            return {**config, "size": self.size[0]}
        return {**config, "size": self.size, "data_format": self.data_format}


class UpSampling1D(_UpSampling):
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, **kwargs)


class UpSampling2D(_UpSampling):
    """Nearest repeats pixels; bilinear interpolates with half-pixel centers (tf.image.resize)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)


class DepthToSpace(_Spatial):
    """Sub-pixel upsampling (Shi et al. 2016): (N, H, W, C*b*b) -> (N, H*b, W*b, C), as tf.nn.depth_to_space."""

    def __init__(self, block_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.block_size = positive_int(self.describe(), "block_size", block_size)
        self.data_format = check_channels_last(self.describe(), data_format)

    def build(self, input_shape):
        if input_shape[-1] % self.block_size ** 2:
            raise ValueError(f"{self.describe()}: channels ({input_shape[-1]}) must be a multiple of "
                             f"block_size**2 = {self.block_size ** 2}")

    def call(self, inputs, training=None):
        return ops.depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        b = self.block_size
        n, h, w, c = input_shape
        return (n, None if h is None else h * b, None if w is None else w * b, c // (b * b))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size, "data_format": self.data_format}


class SpaceToDepth(DepthToSpace):
    """The inverse of DepthToSpace: (N, H*b, W*b, C) -> (N, H, W, C*b*b)."""

    def build(self, input_shape):
        if any(n is not None and n % self.block_size for n in input_shape[1:3]):
            raise ValueError(f"{self.describe()}: height and width of {tuple(input_shape)} must be multiples of "
                             f"block_size={self.block_size}")

    def call(self, inputs, training=None):
        return ops.space_to_depth(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        b = self.block_size
        n, h, w, c = input_shape
        return (n, None if h is None else h // b, None if w is None else w // b, c * b * b)
