"""Keras 3 preprocessing layers: image augmentation that acts only in training, Rescaling and
Normalization.

The random layers wrap the transforms of ``deepcore.data`` (one implementation for pipeline and
model). Called with ``training=True`` (as ``fit`` does) they draw new parameters for every image;
otherwise they return their input (RandomCrop: its centre). ``seed`` gives a layer its own
generator; without one it draws from deepcore's, which ``dc.utils.set_random_seed`` seeds.
Unlike Keras: inputs must be batched (rank 4, channels_last), and augmentation is not
differentiable, so a random layer goes before any layer with weights (as Keras models place it).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import random
from ..backend.device import device_of, get_array_module, to_device
from ..data import geometry, transforms
from ..data.transforms import moments
from ..utils import PyDataset
from .base import Layer


def _as_float(inputs: Tensor) -> Tensor:
    """Integer images become float32, as Keras' preprocessing layers output floats."""
    return inputs if inputs.dtype.kind == "f" else Tensor(inputs.data.astype(np.float32))


class RandomAugmentation(Layer):
    """Base of the random layers: the ``deepcore.data`` transform ``transform_class``, built from
    the layer's arguments of the same names, applied in training only."""

    input_ndim = 4
    input_axes = "batch, height, width, channels"
    transform_class: type = None

    def __init__(self, seed, layer_kwargs, **arguments):
        super().__init__(**layer_kwargs)
        self.seed, self.arguments = seed, arguments
        self._generator = None if seed is None else np.random.default_rng(seed)
        try:
            self.transform = self.transform_class(**arguments)
        except ValueError as error:  # the transform's message, under this layer's name
            raise ValueError(f"{self.describe()}: {str(error).split(': ', 1)[-1]}") from None

    def call(self, inputs, training=None):
        inputs = _as_float(inputs)
        if not training:
            images = self.infer(inputs.data)
            return inputs if images is inputs.data else Tensor(images)
        if inputs.requires_grad:
            raise ValueError(f"{self.describe()}: random augmentation is not differentiable, but its input "
                             f"requires a gradient; put the layer before any layer with weights "
                             f"(e.g. right after Input)")
        rng = self._generator if self._generator is not None else random.generator()
        return Tensor(self.augment(inputs.data, rng))

    def augment(self, images, rng):
        return self.transform(images, rng)

    def infer(self, images):
        """What inference returns (an array); the default is the input itself."""
        return images

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, **self.arguments}


class RandomFlip(RandomAugmentation):
    """Flips each image left-right and/or upside down with probability 1/2 (``mode``:
    "horizontal", "vertical" or "horizontal_and_vertical")."""

    transform_class = transforms.RandomFlip

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed, kwargs, mode=mode)


class RandomCrop(RandomAugmentation):
    """Training: a random ``height`` x ``width`` window of each image (Keras crops a whole batch
    at one place; here each image gets its own). Inference, and training on smaller images: the
    largest centred window of the target aspect ratio, resized (bilinear) to the target, as Keras."""

    transform_class = transforms.RandomCrop

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(seed, kwargs, height=height, width=width)
        self.height, self.width = height, width

    def augment(self, images, rng):
        if images.shape[1] < self.height or images.shape[2] < self.width:
            return self.infer(images)
        return self.transform(images, rng)

    def infer(self, images):
        count, height, width, _ = images.shape
        window_height = max(min(height, int(width * self.height / self.width)), 1)
        window_width = max(min(width, int(height * self.width / self.height)), 1)
        window = geometry.crop(images, np.full(count, (height - window_height) // 2),
                               np.full(count, (width - window_width) // 2), window_height, window_width)
        if (window_height, window_width) == (self.height, self.width):
            return window
        scale_y, scale_x = window_height / self.height, window_width / self.width
        # half-pixel centres: output pixel y covers window rows around (y + 1/2) * scale - 1/2
        matrices = geometry.scale_matrices(np.full(count, scale_y), scale_x, 0.5 * scale_y - 0.5, 0.5 * scale_x - 0.5)
        return geometry.affine_transform(window, matrices, "bilinear", "nearest", size=(self.height, self.width))


class RandomTranslation(RandomAugmentation):
    """Shifts each image by fractions of its height and width drawn from ``height_factor`` and
    ``width_factor`` (a float f means [-f, f]; positive moves down / right)."""

    transform_class = transforms.RandomTranslation

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(seed, kwargs, height_factor=height_factor, width_factor=width_factor, fill_mode=fill_mode,
                         interpolation=interpolation, fill_value=fill_value)


class RandomRotation(RandomAugmentation):
    """Rotates each image about its centre by a fraction of a full turn drawn from ``factor``
    (a float f means [-f, f]; positive is counter-clockwise)."""

    transform_class = transforms.RandomRotation

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(seed, kwargs, factor=factor, fill_mode=fill_mode, interpolation=interpolation,
                         fill_value=fill_value)


class RandomZoom(RandomAugmentation):
    """Zooms each image about its centre by 1 + a value drawn from ``height_factor`` (and
    ``width_factor``; None keeps the aspect ratio). Positive zooms out, negative zooms in."""

    transform_class = transforms.RandomZoom

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 seed=None, fill_value=0.0, **kwargs):
        super().__init__(seed, kwargs, height_factor=height_factor, width_factor=width_factor, fill_mode=fill_mode,
                         interpolation=interpolation, fill_value=fill_value)


class RandomContrast(RandomAugmentation):
    """``(x - mean) * c + mean`` per image and channel, c drawn from [1 - lower, 1 + upper]
    (``factor`` f means lower = upper = f, as Keras documents), clipped to ``value_range``."""

    transform_class = transforms.RandomContrast

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed, kwargs, factor=factor, value_range=value_range)


class RandomBrightness(RandomAugmentation):
    """Adds ``d * (high - low)`` to each image, d drawn from ``factor`` (in [-1, 1]; a float f
    means [-f, f]), clipped to ``value_range`` = (low, high)."""

    transform_class = transforms.RandomBrightness

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed, kwargs, factor=factor, value_range=value_range)


def _constant(inputs: Tensor, value) -> Tensor:
    """``value`` as a Tensor on the inputs' device, in their dtype."""
    xp = get_array_module(inputs.data)
    return Tensor(xp.asarray(to_device(value, device_of(inputs.data)), dtype=inputs.dtype))


class Rescaling(Layer):
    """``inputs * scale + offset``, in training and inference (e.g. ``scale=1/255``)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for argument, value in (("scale", scale), ("offset", offset)):
            if not np.issubdtype(np.asarray(value).dtype, np.number):
                raise ValueError(f"{self.describe()}: {argument} must be a number or a list of numbers, "
                                 f"got {value!r}")
        as_config = lambda value: value.tolist() if isinstance(value, np.ndarray) else value
        self.scale, self.offset = as_config(scale), as_config(offset)

    def call(self, inputs, training=None):
        inputs = _as_float(inputs)
        return inputs * _constant(inputs, self.scale) + _constant(inputs, self.offset)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """``(x - mean) / sqrt(variance)`` (``invert``: ``x * sqrt(variance) + mean``), with one mean and
    variance per position along ``axis`` (default the channels; None: one for everything).

    Give ``mean`` and ``variance``, or call ``adapt(data)`` to measure them: data is an array or an
    iterable of batches (arrays or (x, y) tuples, e.g. a ``deepcore.data.Pipeline``). Weights as
    Keras: non-trainable ``mean``, ``variance`` and ``count`` (kept for Keras' layout; unused).
    """

    EPSILON = 1e-7  # Keras' backend.epsilon(): the floor under sqrt(variance)

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"{self.describe()}: give both mean and variance, or neither (and call adapt), "
                             f"got mean={mean!r} and variance={variance!r}")
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(f"{self.describe()}: mean and variance must have the same shape, got "
                             f"{np.shape(mean)} and {np.shape(variance)}")
        self.input_mean, self.input_variance, self.invert = mean, variance, invert

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(not -ndim <= axis < ndim for axis in self.axis):
            raise ValueError(f"{self.describe()}: axis {self.axis} out of range for inputs of rank {ndim}")
        self._keep_axes = tuple(sorted(axis % ndim for axis in self.axis))
        if any(input_shape[axis] is None for axis in self._keep_axes):
            raise ValueError(f"{self.describe()}: the axes kept ({self._keep_axes}) must have known sizes, "
                             f"got input shape {tuple(input_shape)}")
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axes else 1 for d in range(ndim))
        kept_shape = tuple(input_shape[d] for d in self._keep_axes)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(kept_shape, "zeros", trainable=False, name="mean")
            self.adapt_variance = self.add_weight(kept_shape, "ones", trainable=False, name="variance")
            self.count = self.add_weight((), "zeros", dtype="int64", trainable=False, name="count")
        else:  # Keras aligns the given values with the kept axes from the right
            expanded = [1] * ndim
            for i in range(1, np.ndim(self.input_mean) + 1):
                expanded[self._keep_axes[-i]] = np.shape(self.input_mean)[-i]
            self._mean = np.broadcast_to(np.reshape(self.input_mean, expanded), self._broadcast_shape)
            self._variance = np.broadcast_to(np.reshape(self.input_variance, expanded), self._broadcast_shape)
        self.built = True

    def adapt(self, data):
        """Set the mean and variance to those of ``data`` (see the class docstring)."""
        if self.input_mean is not None:
            raise ValueError(f"{self.describe()}: adapt() measures mean and variance, but they were given "
                             f"to the constructor")
        if hasattr(data, "shape"):
            batches = (data[start:start + 1024] for start in range(0, len(data), 1024))
        elif isinstance(data, PyDataset):
            batches = (data[index] for index in range(len(data)))
        else:
            batches = iter(data)
        batches = (batch[0] if isinstance(batch, (tuple, list)) else batch for batch in batches)
        first = next(batches, None)
        if first is None:
            raise ValueError(f"{self.describe()}: adapt() got no data")
        shape = (None,) + tuple(first.shape[1:])
        if not self.built:
            self._maybe_build(shape)
        elif any(shape[d] != self._broadcast_shape[d] for d in self._keep_axes):
            raise ValueError(f"{self.describe()}: built for inputs of shape {self._build_input_shape}, "
                             f"adapt() got batches of shape {tuple(first.shape)}")
        mean, variance = moments(itertools.chain([first], batches), self._keep_axes)
        self.adapt_mean.assign(mean)
        self.adapt_variance.assign(variance)

    def call(self, inputs, training=None):
        inputs = _as_float(inputs)
        if self.input_mean is None:
            mean = self.adapt_mean.data.reshape(self._broadcast_shape)
            variance = self.adapt_variance.data.reshape(self._broadcast_shape)
        else:
            mean, variance = self._mean, self._variance
        mean, variance = _constant(inputs, mean), _constant(inputs, variance)
        xp = get_array_module(inputs.data)
        std = Tensor(xp.maximum(xp.sqrt(variance.data), self.EPSILON))
        return inputs * std + mean if self.invert else (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        as_list = lambda value: np.asarray(value).tolist() if value is not None else None
        return {**super().get_config(), "axis": self.axis, "mean": as_list(self.input_mean),
                "variance": as_list(self.input_variance), "invert": self.invert}
