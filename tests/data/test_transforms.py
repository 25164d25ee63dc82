"""Each transform against a NumPy reference written here pixel by pixel from its definition,
the ranges its random parameters are drawn from, and determinism under a seed."""
import math

import numpy as np
import pytest

import deepcore as dc
from deepcore import data
from deepcore.backend import to_device

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (3, 5, 6, 3)).astype(np.float32)


# --- an independent resampler: one pixel at a time, fill modes as Keras draws them -------------
def extend(index, size, mode):
    """The pixel that ``index`` reads when the image is extended by ``mode`` (None: the fill value)."""
    if 0 <= index < size:
        return index
    if mode == "constant":
        return None
    if mode == "nearest":  # a a | a b c d | d d
        return min(max(index, 0), size - 1)
    if mode == "wrap":  # a b c d | a b c d
        return index % size
    while not 0 <= index < size:  # reflect: d c b a | a b c d | d c b a
        index = -index - 1 if index < 0 else 2 * size - 1 - index
    return index


def sample(image, y, x, interpolation, mode, fill):
    height, width, channels = image.shape

    def pixel(row, column):
        row, column = extend(row, height, mode), extend(column, width, mode)
        return np.full(channels, fill) if row is None or column is None else image[row, column].astype(float)

    if interpolation == "nearest":
        return pixel(math.floor(y + 0.5), math.floor(x + 0.5))
    y0, x0 = math.floor(y), math.floor(x)
    dy, dx = y - y0, x - x0
    return ((1 - dy) * (1 - dx) * pixel(y0, x0) + (1 - dy) * dx * pixel(y0, x0 + 1)
            + dy * (1 - dx) * pixel(y0 + 1, x0) + dy * dx * pixel(y0 + 1, x0 + 1))


def warp(images, source_of, interpolation, mode, fill=0.0):
    """out[i, y, x] = images[i] sampled at source_of(i, y, x) = (source row, source column)."""
    out = np.empty(images.shape)
    for i, y, x in np.ndindex(images.shape[:3]):
        out[i, y, x] = sample(images[i], *source_of(i, y, x), interpolation, mode, fill)
    return out


def host(array):
    return to_device(array, "cpu")


MODES = [(interpolation, mode) for interpolation in ("bilinear", "nearest")
         for mode in ("reflect", "wrap", "constant", "nearest")]


@pytest.mark.parametrize("interpolation,mode", MODES)
def test_translation_matches_reference(xp, interpolation, mode):
    shift_y, shift_x = np.array([1.5, -2.25, 0.0]), np.array([-0.5, 3.0, 7.5])
    transform = data.RandomTranslation(0.5, 0.5, fill_mode=mode, interpolation=interpolation, fill_value=-1.0)
    expected = warp(IMAGES, lambda i, y, x: (y - shift_y[i], x - shift_x[i]), interpolation, mode, -1.0)
    np.testing.assert_allclose(host(transform.apply(xp.asarray(IMAGES), shift_y, shift_x)), expected, rtol=1e-5,
                               atol=1e-3)


@pytest.mark.parametrize("interpolation,mode", MODES)
def test_rotation_matches_reference(xp, interpolation, mode):
    angles = np.array([0.3, -1.1, 2.5])
    center_y, center_x = (5 - 1) / 2, (6 - 1) / 2

    def source_of(i, y, x):  # the output pixel's offset from the centre, turned back by the angle
        cos, sin = math.cos(angles[i]), math.sin(angles[i])
        dy, dx = y - center_y, x - center_x
        return center_y + sin * dx + cos * dy, center_x + cos * dx - sin * dy

    transform = data.RandomRotation(0.5, fill_mode=mode, interpolation=interpolation)
    np.testing.assert_allclose(host(transform.apply(xp.asarray(IMAGES), angles)),
                               warp(IMAGES, source_of, interpolation, mode), rtol=1e-5, atol=1e-3)


def test_quarter_turn_is_counter_clockwise_like_rot90():
    square = RNG.uniform(0, 1, (1, 5, 5, 2)).astype(np.float32)
    turned = data.RandomRotation(0.5).apply(square, np.array([math.pi / 2]))
    np.testing.assert_allclose(turned[0], np.rot90(square[0]), atol=1e-5)


@pytest.mark.parametrize("interpolation,mode", MODES)
def test_zoom_matches_reference(xp, interpolation, mode):
    zoom_y, zoom_x = np.array([0.6, 1.3, 1.0]), np.array([0.7, 1.3, 2.1])  # no source on a .5 tie
    center_y, center_x = 2.0, 2.5
    expected = warp(IMAGES, lambda i, y, x: (center_y + zoom_y[i] * (y - center_y),
                                             center_x + zoom_x[i] * (x - center_x)), interpolation, mode)
    transform = data.RandomZoom(0.5, fill_mode=mode, interpolation=interpolation)
    np.testing.assert_allclose(host(transform.apply(xp.asarray(IMAGES), zoom_y, zoom_x)), expected, rtol=1e-5,
                               atol=1e-3)


def test_flip_matches_reference(xp):
    horizontal, vertical = np.array([True, False, True]), np.array([False, True, True])
    got = host(data.RandomFlip().apply(xp.asarray(IMAGES), horizontal, vertical))
    for i, image in enumerate(IMAGES):
        expected = np.fliplr(image) if horizontal[i] else image
        expected = np.flipud(expected) if vertical[i] else expected
        np.testing.assert_array_equal(got[i], expected)


def test_crop_with_padding_matches_reference(xp):
    top, left = np.array([0, 3, 6]), np.array([8, 0, 5])
    got = host(data.RandomCrop(4, 2, padding=3).apply(xp.asarray(IMAGES), top, left))
    for i, image in enumerate(IMAGES):
        padded = np.pad(image, ((3, 3), (3, 3), (0, 0)))
        np.testing.assert_array_equal(got[i], padded[top[i]:top[i] + 4, left[i]:left[i] + 2])


def test_color_transforms_match_reference(xp):
    deltas, contrasts, saturations = np.array([-30.0, 0.0, 200.0]), np.array([0.5, 1.0, 1.8]), np.array([0.0, 1.0, 1.5])
    images = xp.asarray(IMAGES)
    brightness_got = host(data.RandomBrightness(0.5).apply(images, deltas))
    contrast_got = host(data.RandomContrast(0.9).apply(images, contrasts))
    jitter_got = host(data.ColorJitter(0.5, 0.9, 0.9).apply(images, deltas, contrasts, saturations))
    for i, image in enumerate(IMAGES.astype(float)):
        brightened = np.clip(image + deltas[i], 0, 255)
        np.testing.assert_allclose(brightness_got[i], brightened, rtol=1e-6)
        contrasted = np.stack([(image[..., c] - image[..., c].mean()) * contrasts[i] + image[..., c].mean()
                               for c in range(3)], axis=-1)
        np.testing.assert_allclose(contrast_got[i], np.clip(contrasted, 0, 255), rtol=1e-5, atol=1e-3)
        jittered = np.stack([(brightened[..., c] - brightened[..., c].mean()) * contrasts[i] + brightened[..., c].mean()
                             for c in range(3)], axis=-1).clip(0, 255)
        gray = 0.299 * jittered[..., 0] + 0.587 * jittered[..., 1] + 0.114 * jittered[..., 2]
        jittered = np.clip(gray[..., None] + saturations[i] * (jittered - gray[..., None]), 0, 255)
        np.testing.assert_allclose(jitter_got[i], jittered, rtol=1e-5, atol=1e-3)


def test_cutout_matches_reference(xp):
    center_y, center_x = np.array([0, 2, 4]), np.array([5, 2, 0])
    got = host(data.Cutout(3, fill_value=-7.0).apply(xp.asarray(IMAGES), center_y, center_x))
    for i, y, x in np.ndindex(IMAGES.shape[:3]):
        inside = center_y[i] - 1 <= y <= center_y[i] + 1 and center_x[i] - 1 <= x <= center_x[i] + 1
        np.testing.assert_array_equal(got[i, y, x], -7.0 if inside else IMAGES[i, y, x])


def test_normalize_and_moments_match_numpy():
    mean, std = IMAGES.mean(axis=(0, 1, 2)), IMAGES.std(axis=(0, 1, 2))
    normalize = data.Normalize.from_data(IMAGES)
    np.testing.assert_allclose(normalize.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(normalize.std, std, rtol=1e-5)
    np.testing.assert_allclose(normalize(IMAGES), (IMAGES - mean) / std, rtol=1e-4, atol=1e-5)
    batches = [(IMAGES[:1], None), IMAGES[1:], IMAGES[:2] + 1000]  # uneven, tuples, a shifted batch
    everything = np.concatenate([IMAGES[:1], IMAGES[1:], IMAGES[:2] + 1000]).astype(np.float64)
    got_mean, got_variance = data.moments(batches, keep_axes=(1, -1))
    np.testing.assert_allclose(got_mean, everything.mean(axis=(0, 2)), rtol=1e-10)
    np.testing.assert_allclose(got_variance, everything.var(axis=(0, 2)), rtol=1e-10)


TRANSFORMS = [data.RandomFlip(), data.RandomCrop(4, 4, padding=2), data.RandomTranslation(0.3, 0.3),
              data.RandomRotation(0.2), data.RandomZoom(0.3, 0.1), data.RandomBrightness(0.2),
              data.RandomContrast(0.4), data.ColorJitter(0.1, 0.2, 0.3), data.Cutout(2)]


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
def test_call_is_draw_then_apply_and_deterministic_under_seed(transform):
    got = transform(IMAGES, np.random.default_rng(3))
    expected = transform.apply(IMAGES, *transform.draw(np.random.default_rng(3), IMAGES.shape))
    np.testing.assert_array_equal(got, expected)
    dc.utils.set_random_seed(11)
    first = transform(IMAGES)
    dc.utils.set_random_seed(11)
    np.testing.assert_array_equal(transform(IMAGES), first)
    assert not np.array_equal(transform(IMAGES), first)  # the generator moved on
    assert transform(IMAGES.astype(np.uint8)).dtype == np.float32


def test_parameters_are_drawn_from_the_declared_ranges():
    rng, shape = np.random.default_rng(0), (4000, 10, 20, 3)
    horizontal, vertical = data.RandomFlip("horizontal").draw(rng, shape)
    assert 0.45 < horizontal.mean() < 0.55 and not vertical.any()
    shift_y, shift_x = data.RandomTranslation(0.2, (-0.1, 0.3)).draw(rng, shape)
    assert -2 <= shift_y.min() < -1.9 and 1.9 < shift_y.max() <= 2
    assert -2 <= shift_x.min() < -1.9 and 5.9 < shift_x.max() <= 6
    (angles,) = data.RandomRotation(0.25).draw(rng, shape)
    assert -math.pi / 2 <= angles.min() < -1.5 and 1.5 < angles.max() <= math.pi / 2
    zoom_y, zoom_x = data.RandomZoom((-0.3, -0.1)).draw(rng, shape)
    assert 0.7 <= zoom_y.min() < 0.71 and 0.89 < zoom_y.max() <= 0.9 and np.array_equal(zoom_x, zoom_y)
    (factors,) = data.RandomContrast(0.3).draw(rng, shape)
    assert 0.7 <= factors.min() < 0.71 and 1.29 < factors.max() <= 1.3
    (deltas,) = data.RandomBrightness(0.2, value_range=(0, 1)).draw(rng, shape)
    assert -0.2 <= deltas.min() < -0.19 and 0.19 < deltas.max() <= 0.2
    top, left = data.RandomCrop(8, 16, padding=1).draw(rng, shape)
    assert (top.min(), top.max(), left.min(), left.max()) == (0, 4, 0, 6)


@pytest.mark.parametrize("make,message", [
    (lambda: data.RandomFlip("diagonal"), "mode must be one of"),
    (lambda: data.RandomRotation(1.5), r"factor must lie in \[-1.0, 1.0\]"),
    (lambda: data.RandomTranslation("a", 0.1), "height_factor must be a float or a"),
    (lambda: data.RandomZoom(0.1, fill_mode="mirror"), "fill_mode must be one of"),
    (lambda: data.RandomContrast(-0.1), r"factor must be a float in \[0, 1\]"),
    (lambda: data.RandomBrightness(0.1, value_range=(1, 0)), "value_range"),
    (lambda: data.RandomCrop(0, 4), "height must be an int >= 1"),
    (lambda: data.Normalize([1, 2], [1, 0]), "std > 0"),
    (lambda: data.Cutout(3)(IMAGES[0]), "expected a batch of images of rank 4"),
    (lambda: data.RandomCrop(8, 8)(IMAGES), "cannot take a 8x8 window"),
    (lambda: data.ColorJitter(saturation=0.5)(IMAGES[..., :2]), "3 channels"),
])
def test_bad_arguments_raise_naming_the_transform(make, message):
    with pytest.raises(ValueError, match=message):
        make()
