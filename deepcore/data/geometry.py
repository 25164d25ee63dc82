"""Geometric operations on batches of images (N, height, width, channels): the deterministic
half of augmentation. Each takes per-image parameters (one entry per image, host NumPy arrays)
and works on NumPy and CuPy batches alike.
"""
from __future__ import annotations

import numpy as np

from ..backend.device import get_array_module

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


def flip(images, horizontal, vertical):
    """Mirror image i left-right where ``horizontal[i]``, upside down where ``vertical[i]``."""
    xp = get_array_module(images)
    horizontal = xp.asarray(horizontal, dtype=bool).reshape(-1, 1, 1, 1)
    vertical = xp.asarray(vertical, dtype=bool).reshape(-1, 1, 1, 1)
    images = xp.where(horizontal, images[:, :, ::-1], images)
    return xp.where(vertical, images[:, ::-1], images)


def pad(images, padding: int, fill_value=0.0):
    """``padding`` pixels of ``fill_value`` added on each side of every image."""
    xp = get_array_module(images)
    return xp.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)), constant_values=fill_value)


def crop(images, top, left, height: int, width: int):
    """The ``height`` x ``width`` window of image i whose top-left pixel is (``top[i]``, ``left[i]``)."""
    xp = get_array_module(images)
    rows = xp.asarray(top).reshape(-1, 1) + xp.arange(height)
    columns = xp.asarray(left).reshape(-1, 1) + xp.arange(width)
    batch = xp.arange(len(images)).reshape(-1, 1, 1)
    return images[batch, rows[:, :, None], columns[:, None, :]]


def scale_matrices(scale_y, scale_x, offset_y, offset_x) -> np.ndarray:
    """Output pixel (x, y) samples the input at (scale_x * x + offset_x, scale_y * y + offset_y).

    Translation is scale 1 and offset -shift; zoom about the centre c is scale z and offset
    c * (1 - z) (Keras' zoom matrix); resizing is scale in/out with half-pixel offsets.
    """
    scale_y, scale_x, offset_y, offset_x = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in
                                                                 (scale_y, scale_x, offset_y, offset_x)))
    matrices = np.zeros(scale_y.shape + (2, 3))
    matrices[..., 0, 0], matrices[..., 0, 2] = scale_x, offset_x
    matrices[..., 1, 1], matrices[..., 1, 2] = scale_y, offset_y
    return matrices


def rotation_matrices(angles, height: int, width: int) -> np.ndarray:
    """Rotation by ``angles`` (radians) about the image centre; positive turns the content
    counter-clockwise on screen, as Keras' RandomRotation."""
    cos, sin = np.cos(angles), np.sin(angles)
    center_y, center_x = (height - 1) / 2, (width - 1) / 2
    matrices = np.zeros(np.shape(angles) + (2, 3))
    matrices[..., 0, :] = np.stack([cos, -sin, center_x - cos * center_x + sin * center_y], axis=-1)
    matrices[..., 1, :] = np.stack([sin, cos, center_y - sin * center_x - cos * center_y], axis=-1)
    return matrices


def affine_transform(images, matrices, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                     size=None):
    """Resample every image through an affine map of pixel coordinates, into ``size`` (height,
    width; default the input's).

    Output pixel (row y, column x) of image i takes the input's value at column
    ``matrices[i, 0] @ (x, y, 1)`` and row ``matrices[i, 1] @ (x, y, 1)``: the map goes from
    output to input, as in Keras' ``affine_transform``, with pixel centres at integer
    coordinates. ``bilinear`` blends the four neighbouring pixels, ``nearest`` takes the closest.
    Neighbours outside the image come from ``fill_mode``: reflect (d c b a | a b c d | d c b a),
    wrap (a b c d | a b c d), nearest (a a | a b c d | d d) or constant (``fill_value``).
    """
    xp = get_array_module(images)
    height, width = images.shape[1:3] if size is None else size
    m = xp.asarray(matrices, dtype=xp.float64)[:, :, :, None, None]
    rows = xp.arange(height, dtype=xp.float64)[:, None]
    columns = xp.arange(width, dtype=xp.float64)[None, :]
    source_x = m[:, 0, 0] * columns + m[:, 0, 1] * rows + m[:, 0, 2]
    source_y = m[:, 1, 0] * columns + m[:, 1, 1] * rows + m[:, 1, 2]
    if interpolation == "nearest":
        return _sample(images, xp.floor(source_y + 0.5), xp.floor(source_x + 0.5), fill_mode, fill_value)
    y0, x0 = xp.floor(source_y), xp.floor(source_x)
    weight_y = (source_y - y0).astype(images.dtype)[..., None]
    weight_x = (source_x - x0).astype(images.dtype)[..., None]
    top = _sample(images, y0, x0, fill_mode, fill_value) * (1 - weight_x) + \
        _sample(images, y0, x0 + 1, fill_mode, fill_value) * weight_x
    bottom = _sample(images, y0 + 1, x0, fill_mode, fill_value) * (1 - weight_x) + \
        _sample(images, y0 + 1, x0 + 1, fill_mode, fill_value) * weight_x
    return top * (1 - weight_y) + bottom * weight_y


def _sample(images, rows, columns, fill_mode, fill_value):
    """``images[i, rows[i], columns[i]]`` for integer-valued index arrays (N, h, w) that may leave the image."""
    xp = get_array_module(images)
    _, height, width, _ = images.shape
    rows, rows_inside = _fold(rows.astype(xp.int64), height, fill_mode)
    columns, columns_inside = _fold(columns.astype(xp.int64), width, fill_mode)
    values = images[xp.arange(len(images)).reshape(-1, 1, 1), rows, columns]
    if fill_mode == "constant":
        inside = (rows_inside & columns_inside)[..., None]
        values = xp.where(inside, values, xp.asarray(fill_value, dtype=images.dtype))
    return values


def _fold(index, size: int, fill_mode: str):
    """Indices mapped into [0, size) the way ``fill_mode`` extends the image, and which were inside."""
    xp = get_array_module(index)
    inside = (index >= 0) & (index < size)
    if fill_mode == "reflect":
        index = index % (2 * size)
        index = xp.where(index >= size, 2 * size - 1 - index, index)
    elif fill_mode == "wrap":
        index = index % size
    else:  # nearest; constant replaces the outside values afterwards
        index = xp.clip(index, 0, size - 1)
    return index, inside
