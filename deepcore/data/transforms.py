"""Augmentation and normalization transforms for batches of images (N, height, width, channels).

A transform ``draw``s its random parameters from a NumPy generator (one entry per image, on the
host) and ``apply``s them to NumPy or CuPy images; calling it does both, drawing from deepcore's
seeded generator unless given one. ``Pipeline`` passes a generator seeded per batch, and the
layers of ``deepcore.layers.preprocessing`` wrap these same classes. Arguments are named and
mean what they do in the Keras 3 layers of the same names; integer images become float32.
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np

from ..autograd.tensor import unwrap
from ..backend import random
from ..backend.device import get_array_module, to_device
from . import geometry

# ITU-R BT.601 luma weights, as PIL's ImageEnhance.Color and torchvision use for saturation
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def as_images(images, who: str):
    """``images`` as a float array of rank 4, or a ValueError naming ``who``."""
    xp = get_array_module(images)
    images = xp.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"{who}: expected a batch of images of rank 4 (batch, height, width, channels), "
                         f"got shape {tuple(images.shape)}. Add a batch axis for one image, e.g. x[None].")
    return images if images.dtype.kind == "f" else images.astype(xp.float32)


class Transform:
    """Base class: ``draw(rng, shape)`` -> per-image parameters; ``apply(images, *parameters)``."""

    def draw(self, rng: np.random.Generator, shape) -> tuple:
        return ()

    def apply(self, images, *parameters):
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    def __call__(self, images, rng=None):
        images = as_images(images, type(self).__name__)
        parameters = self.draw(random.generator() if rng is None else rng, images.shape)
        return self.apply(images, *parameters)


# --- argument checks: ValueError naming the transform ------------------------------------------
def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def factor_range(who, argument, factor, bound=1.0):
    """Keras' factor convention: ``f`` means (-|f|, |f|); a pair is (lower, upper); both within ±bound."""
    if _is_number(factor):
        lower, upper = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, (tuple, list)) and len(factor) == 2 and all(map(_is_number, factor)):
        lower, upper = sorted(float(value) for value in factor)
    else:
        raise ValueError(f"{who}: {argument} must be a float or a (lower, upper) pair, got {factor!r}")
    if lower < -bound or upper > bound:
        raise ValueError(f"{who}: {argument} must lie in [-{bound}, {bound}], got {factor!r}")
    return lower, upper


def value_range_pair(who, value_range):
    if not (isinstance(value_range, (tuple, list)) and len(value_range) == 2 and all(map(_is_number, value_range))
            and value_range[0] < value_range[1]):
        raise ValueError(f"{who}: value_range must be a (low, high) pair with low < high, got {value_range!r}")
    return float(value_range[0]), float(value_range[1])


def one_of(who, argument, value, choices):
    if value not in choices:
        raise ValueError(f"{who}: {argument} must be one of {list(choices)}, got {value!r}")
    return value


def positive_int(who, argument, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{who}: {argument} must be an int >= {minimum}, got {value!r}")
    return int(value)


# --- geometric --------------------------------------------------------------------------------
class RandomFlip(Transform):
    """Each image flipped left-right and/or upside down, each with probability 1/2."""

    MODES = {"horizontal": (True, False), "vertical": (False, True), "horizontal_and_vertical": (True, True)}

    def __init__(self, mode="horizontal_and_vertical"):
        self.mode = one_of("RandomFlip", "mode", mode, self.MODES)

    def draw(self, rng, shape):
        horizontal, vertical = self.MODES[self.mode]
        return tuple(rng.random(shape[0]) < 0.5 if used else np.zeros(shape[0], bool)
                     for used in (horizontal, vertical))

    def apply(self, images, horizontal, vertical):
        return geometry.flip(images, horizontal, vertical)


class RandomCrop(Transform):
    """A random ``height`` x ``width`` window of each image, after ``padding`` zeros on every side
    (the CIFAR recipe of He et al. 2016 is padding=4 then a 32x32 crop)."""

    def __init__(self, height, width, padding=0):
        self.height = positive_int("RandomCrop", "height", height)
        self.width = positive_int("RandomCrop", "width", width)
        self.padding = positive_int("RandomCrop", "padding", padding, minimum=0)

    def draw(self, rng, shape):
        count, height, width = shape[0], shape[1] + 2 * self.padding, shape[2] + 2 * self.padding
        if height < self.height or width < self.width:
            raise ValueError(f"RandomCrop: cannot take a {self.height}x{self.width} window from images of "
                             f"{shape[1]}x{shape[2]} with padding {self.padding}")
        return rng.integers(0, height - self.height + 1, count), rng.integers(0, width - self.width + 1, count)

    def apply(self, images, top, left):
        if self.padding:
            images = geometry.pad(images, self.padding)
        return geometry.crop(images, top, left, self.height, self.width)


class _Resampling(Transform):
    """Shared by the transforms that move pixels through ``geometry.affine_transform``."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", fill_value=0.0):
        who = type(self).__name__
        self.fill_mode = one_of(who, "fill_mode", fill_mode, geometry.FILL_MODES)
        self.interpolation = one_of(who, "interpolation", interpolation, geometry.INTERPOLATIONS)
        if not _is_number(fill_value):
            raise ValueError(f"{who}: fill_value must be a number, got {fill_value!r}")
        self.fill_value = float(fill_value)

    def resample(self, images, matrices):
        return geometry.affine_transform(images, matrices, self.interpolation, self.fill_mode, self.fill_value)


class RandomTranslation(_Resampling):
    """Each image shifted by a fraction of its size drawn from ``height_factor`` / ``width_factor``
    (positive: down / right)."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear",
                 fill_value=0.0):
        super().__init__(fill_mode, interpolation, fill_value)
        self.height_range = factor_range("RandomTranslation", "height_factor", height_factor)
        self.width_range = factor_range("RandomTranslation", "width_factor", width_factor)

    def draw(self, rng, shape):
        """Shifts in pixels: (down, right)."""
        return (rng.uniform(*self.height_range, shape[0]) * shape[1],
                rng.uniform(*self.width_range, shape[0]) * shape[2])

    def apply(self, images, shift_y, shift_x):
        return self.resample(images, geometry.scale_matrices(1.0, 1.0, -np.asarray(shift_y), -np.asarray(shift_x)))


class RandomRotation(_Resampling):
    """Each image rotated about its centre by a fraction of a full turn drawn from ``factor``
    (positive: counter-clockwise)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", fill_value=0.0):
        super().__init__(fill_mode, interpolation, fill_value)
        self.angle_range = factor_range("RandomRotation", "factor", factor)

    def draw(self, rng, shape):
        """Angles in radians."""
        return (rng.uniform(*self.angle_range, shape[0]) * 2 * math.pi,)

    def apply(self, images, angles):
        return self.resample(images, geometry.rotation_matrices(angles, images.shape[1], images.shape[2]))


class RandomZoom(_Resampling):
    """Each image zoomed about its centre by 1 + a factor drawn from ``height_factor`` (and
    ``width_factor``; None keeps the aspect ratio). Positive zooms out, negative zooms in."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                 fill_value=0.0):
        super().__init__(fill_mode, interpolation, fill_value)
        self.height_range = factor_range("RandomZoom", "height_factor", height_factor)
        self.width_range = None if width_factor is None else factor_range("RandomZoom", "width_factor",
                                                                          width_factor)

    def draw(self, rng, shape):
        """Zoom factors (vertical, horizontal): the size of the input region one output pixel spans."""
        zoom_y = 1.0 + rng.uniform(*self.height_range, shape[0])
        zoom_x = zoom_y if self.width_range is None else 1.0 + rng.uniform(*self.width_range, shape[0])
        return zoom_y, zoom_x

    def apply(self, images, zoom_y, zoom_x):
        center_y, center_x = (images.shape[1] - 1) / 2, (images.shape[2] - 1) / 2
        zoom_y, zoom_x = np.asarray(zoom_y), np.asarray(zoom_x)
        return self.resample(images, geometry.scale_matrices(zoom_y, zoom_x, center_y * (1 - zoom_y),
                                                             center_x * (1 - zoom_x)))


# --- colour -----------------------------------------------------------------------------------
def _per_image(images, values):
    xp = get_array_module(images)
    return xp.asarray(values, dtype=images.dtype).reshape(-1, 1, 1, 1)


def adjust_contrast(images, factors):
    """``(x - mean) * factor + mean``, the mean per image and channel over height and width."""
    mean = images.mean(axis=(1, 2), keepdims=True)
    return (images - mean) * _per_image(images, factors) + mean


def adjust_saturation(images, factors):
    """``gray + factor * (x - gray)``: 0 gives grayscale, 1 the image, above 1 stronger colours."""
    if images.shape[-1] != 3:
        raise ValueError(f"saturation: expected RGB images with 3 channels, got shape {tuple(images.shape)}")
    xp = get_array_module(images)
    gray = images @ xp.asarray(LUMA_WEIGHTS, dtype=images.dtype)
    return gray[..., None] + (images - gray[..., None]) * _per_image(images, factors)


class RandomBrightness(Transform):
    """Adds ``delta * (high - low)`` to each image, delta drawn from ``factor`` (in [-1, 1]),
    then clips to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255)):
        self.factor_range = factor_range("RandomBrightness", "factor", factor)
        self.value_range = value_range_pair("RandomBrightness", value_range)

    def draw(self, rng, shape):
        """Additive offsets in pixel units."""
        low, high = self.value_range
        return (rng.uniform(*self.factor_range, shape[0]) * (high - low),)

    def apply(self, images, deltas):
        return (images + _per_image(images, deltas)).clip(*self.value_range)


class RandomContrast(Transform):
    """``adjust_contrast`` with a factor drawn from [1 - lower, 1 + upper] (``factor`` f means
    lower = upper = f), then clips to ``value_range``."""

    def __init__(self, factor, value_range=(0, 255)):
        pair = isinstance(factor, (tuple, list)) and len(factor) == 2
        lower, upper = factor if pair else (factor, factor)
        if not (_is_number(lower) and _is_number(upper) and 0 <= lower <= 1 and 0 <= upper <= 1):
            raise ValueError(f"RandomContrast: factor must be a float in [0, 1] or a (lower, upper) pair "
                             f"of them, got {factor!r}")
        self.factor_range = (1.0 - lower, 1.0 + upper)
        self.value_range = value_range_pair("RandomContrast", value_range)

    def draw(self, rng, shape):
        return (rng.uniform(*self.factor_range, shape[0]),)

    def apply(self, images, factors):
        return adjust_contrast(images, factors).clip(*self.value_range)


class ColorJitter(Transform):
    """Random brightness (as RandomBrightness), then contrast (as RandomContrast), then saturation
    (a factor drawn from [1 - saturation, 1 + saturation]), clipping to ``value_range`` after each.
    Unlike torchvision's ColorJitter the order is fixed and brightness is additive, as Keras'."""

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0, value_range=(0, 255)):
        self.brightness = RandomBrightness(brightness, value_range)
        self.contrast = RandomContrast(contrast, value_range)
        if not _is_number(saturation) or not 0 <= saturation <= 1:
            raise ValueError(f"ColorJitter: saturation must be a float in [0, 1], got {saturation!r}")
        self.saturation_range = (1.0 - saturation, 1.0 + saturation)
        self.value_range = self.brightness.value_range

    def draw(self, rng, shape):
        """(brightness offsets, contrast factors, saturation factors)."""
        return (*self.brightness.draw(rng, shape), *self.contrast.draw(rng, shape),
                rng.uniform(*self.saturation_range, shape[0]))

    def apply(self, images, deltas, contrast_factors, saturation_factors):
        images = self.contrast.apply(self.brightness.apply(images, deltas), contrast_factors)
        return adjust_saturation(images, saturation_factors).clip(*self.value_range)


# --- occlusion and normalization ----------------------------------------------------------------
class Cutout(Transform):
    """A ``size`` x ``size`` square of each image set to ``fill_value``, centred on a random pixel
    and clipped at the borders (DeVries & Taylor 2017, "Improved Regularization of Convolutional
    Neural Networks with Cutout"; apply after normalization so 0 is the mean)."""

    def __init__(self, size, fill_value=0.0):
        self.size = positive_int("Cutout", "size", size)
        if not _is_number(fill_value):
            raise ValueError(f"Cutout: fill_value must be a number, got {fill_value!r}")
        self.fill_value = float(fill_value)

    def draw(self, rng, shape):
        """Centres (row, column)."""
        return rng.integers(0, shape[1], shape[0]), rng.integers(0, shape[2], shape[0])

    def apply(self, images, center_y, center_x):
        xp = get_array_module(images)
        top = xp.asarray(center_y).reshape(-1, 1, 1) - self.size // 2
        left = xp.asarray(center_x).reshape(-1, 1, 1) - self.size // 2
        rows = xp.arange(images.shape[1]).reshape(1, -1, 1)
        columns = xp.arange(images.shape[2]).reshape(1, 1, -1)
        hole = (rows >= top) & (rows < top + self.size) & (columns >= left) & (columns < left + self.size)
        return xp.where(hole[..., None], xp.asarray(self.fill_value, dtype=images.dtype), images)


class Normalize(Transform):
    """``(x - mean) / std`` per channel; ``Normalize.from_data(x_train)`` measures them."""

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, np.float64)
        self.std = np.asarray(std, np.float64)
        if self.mean.ndim > 1 or self.mean.shape != self.std.shape or np.any(self.std <= 0):
            raise ValueError(f"Normalize: expected mean and std of the same shape (one value, or one per "
                             f"channel) with std > 0, got mean {mean!r} and std {std!r}")

    @classmethod
    def from_data(cls, images):
        """Per-channel mean and standard deviation of ``images`` (an array or an iterable of batches)."""
        mean, variance = moments(images)
        return cls(mean, np.sqrt(variance))

    def apply(self, images):
        xp = get_array_module(images)
        return (images - xp.asarray(self.mean, images.dtype)) / xp.asarray(self.std, images.dtype)


def moments(batches, keep_axes=(-1,), chunk=1024):
    """Mean and (population) variance over every axis but ``keep_axes``, in float64.

    ``batches``: one array (read ``chunk`` samples at a time) or an iterable of arrays or of
    ``(x, y)`` tuples. Batches are combined with the pairwise update of Chan, Golub & LeVeque
    (1979): one pass, no catastrophic cancellation.
    """
    if hasattr(batches, "shape"):
        array = batches
        batches = (array[start:start + chunk] for start in range(0, len(array), chunk))
    count, mean, sum_squares = 0, 0.0, 0.0
    for batch in batches:
        batch = unwrap(batch[0] if isinstance(batch, (tuple, list)) else batch)
        batch = np.asarray(to_device(batch, "cpu"), np.float64)
        keep = {axis % batch.ndim for axis in keep_axes}
        axes = tuple(axis for axis in range(batch.ndim) if axis not in keep)
        batch_count = math.prod(batch.shape[axis] for axis in axes)
        batch_mean = batch.mean(axis=axes)
        batch_sum_squares = ((batch - batch.mean(axis=axes, keepdims=True)) ** 2).sum(axis=axes)
        total = count + batch_count
        delta = batch_mean - mean
        mean = mean + delta * batch_count / total
        sum_squares = sum_squares + batch_sum_squares + delta ** 2 * count * batch_count / total
        count = total
    if count == 0:
        raise ValueError("moments: no data (an empty array or iterable)")
    return np.asarray(mean), np.asarray(sum_squares / count)
