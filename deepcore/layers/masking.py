"""Masking: padded time steps marked once and skipped downstream (Keras' masking and padding guide).

A mask is a boolean (batch, timesteps) array, True where a step holds data. ``Masking`` and
``Embedding(mask_zero=True)`` create one; it travels on the output tensor (``_keras_mask``), layers
whose ``call`` takes ``mask`` receive it, and layers that ``supports_masking`` pass it on.
"""
from __future__ import annotations

from ..autograd import arithmetic as A
from ..autograd.tensor import Tensor, unwrap
from ..backend import get_array_module, to_device
from ..backend.device import device_of
from .base import Layer


def check_mask(layer, mask, expected_shape):
    """``mask`` as a boolean array on ``expected_shape``'s device, or a ValueError naming the layer."""
    if mask is None:
        return None
    mask = unwrap(mask)
    if tuple(mask.shape) != tuple(expected_shape):
        raise ValueError(f"{layer.describe()}: mask must have shape (batch, timesteps) = {tuple(expected_shape)}, "
                         f"got {tuple(mask.shape)}")
    return mask.astype(bool, copy=False)


def on_device_of(array, tensor):
    return to_device(array, device_of(unwrap(tensor)))


class Masking(Layer):
    """Masks every time step whose features all equal ``mask_value`` (and zeroes it, as Keras)."""

    input_min_ndim = 3
    input_axes = "batch, timesteps, features"
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, previous_mask=None):
        data = unwrap(inputs)
        return get_array_module(data).any(data != self.mask_value, axis=-1)

    def call(self, inputs, training=None):
        keep = self.compute_mask(inputs)
        output = A.mul(inputs, keep[..., None].astype(inputs.dtype))
        output._keras_mask = keep
        return output

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


def masked_mean(inputs: Tensor, mask, axis=1):
    """Mean over ``axis`` of the steps where ``mask`` (batch, steps) is True (0 where none is)."""
    weights = on_device_of(mask, inputs).astype(inputs.dtype)
    weights = weights.reshape(weights.shape + (1,) * (inputs.ndim - weights.ndim))
    count = weights.sum(axis=axis)
    total = A.sum(A.mul(inputs, weights), axis=axis)
    return A.div(total, get_array_module(count).maximum(count, 1))
