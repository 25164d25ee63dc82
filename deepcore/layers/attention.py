"""Attention layers: MultiHeadAttention (Vaswani et al. 2017), Attention (Luong et al. 2015, dot
product) and AdditiveAttention (Bahdanau et al. 2015), with Keras 3's arguments, masks and weights.

Masks, as Keras: the query's and value's (and key's) masks, ``attention_mask`` (batch, T, S) and
``use_causal_mask`` (query i sees keys 0..i) are combined with a logical AND; masked scores are set
to -1e9 before the softmax. ``return_attention_scores=True`` also returns the softmax weights
(before attention dropout).
"""
from __future__ import annotations

import math

import numpy as np

from .. import constraints, initializers, ops, regularizers
from ..autograd import arithmetic as A
from ..autograd.tensor import unwrap
from ..backend import get_array_module
from ..ops.attention import masked_softmax
from .base import Layer, positive_int


def _mask(xp, mask):
    return None if mask is None else xp.asarray(unwrap(mask)).astype(bool)


def _and(a, b):
    return b if a is None else a if b is None else a & b


def causal_mask(xp, queries, keys):
    """(1, T, S): query i may attend to keys 0..i."""
    return xp.tril(xp.ones((queries, keys), dtype=bool))[None]


class MultiHeadAttention(Layer):
    """Weights as Keras: query/key/value kernels (dim, num_heads, key_dim or value_dim) and biases
    (num_heads, size), output kernel (num_heads, value_dim, output_dim) and bias (output_dim,).
    Differences from Keras: ``attention_axes`` other than the default (every axis between batch and
    features) is not supported."""

    supports_masking = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.num_heads = positive_int(who, "num_heads", num_heads)
        self.key_dim = positive_int(who, "key_dim", key_dim)
        self.value_dim = self.key_dim if value_dim is None else positive_int(who, "value_dim", value_dim)
        if not 0 <= dropout < 1:
            raise ValueError(f"{who}: dropout must be in [0, 1), got {dropout!r}")
        if attention_axes is not None:
            raise ValueError(f"{who}: attention_axes is not supported (attention runs over every axis between "
                             f"batch and features), got {attention_axes!r}")
        self.dropout, self.use_bias, self.seed = float(dropout), bool(use_bias), seed
        self.output_shape = None if output_shape is None else \
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.attention_axes = None
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _dense(self, name, kernel_shape, bias_shape):
        kernel = self.add_weight(kernel_shape, self.kernel_initializer, regularizer=self.kernel_regularizer,
                                 constraint=self.kernel_constraint, name=f"{name}/kernel")
        bias = self.add_weight(bias_shape, self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint, name=f"{name}/bias") if self.use_bias else None
        return kernel, bias

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        n = self.num_heads
        self.query_kernel, self.query_bias = self._dense("query", (query_shape[-1], n, self.key_dim), (n, self.key_dim))
        self.key_kernel, self.key_bias = self._dense("key", (key_shape[-1], n, self.key_dim), (n, self.key_dim))
        self.value_kernel, self.value_bias = self._dense("value", (value_shape[-1], n, self.value_dim),
                                                         (n, self.value_dim))
        out = self.output_shape or (query_shape[-1],)
        self.output_kernel, self.output_bias = self._dense("attention_output", (n, self.value_dim) + out, out)
        self.built = True

    def _project(self, x, kernel, bias):
        y = ops.einsum("btd,dnh->btnh", x, kernel)
        return y if bias is None else A.add(y, bias)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        key = value if key is None else key
        for name, t in (("query", query), ("value", value), ("key", key)):
            if t.ndim < 3:
                raise ValueError(f"{self.describe()}: {name} must have shape (batch, steps, ..., features), "
                                 f"got {t.shape}")
        lead = query.shape[:-1]
        q, k, v = (A.reshape(t, (t.shape[0], -1, t.shape[-1])) for t in (query, key, value))
        allowed = self._attention_mask(q, k, query_mask, value_mask, key_mask, attention_mask, use_causal_mask)
        q = A.mul(self._project(q, self.query_kernel, self.query_bias), 1.0 / math.sqrt(self.key_dim))
        k = self._project(k, self.key_kernel, self.key_bias)
        v = self._project(v, self.value_kernel, self.value_bias)
        scores = ops.einsum("btnh,bsnh->bnts", q, k)
        weights = masked_softmax(scores, None if allowed is None else allowed[:, None])
        dropped = ops.dropout(weights, self.dropout, training=bool(training)) if self.dropout else weights
        attended = ops.einsum("bnts,bsnh->btnh", dropped, v)
        out_dims = self.output_kernel.shape[2:]
        kernel = A.reshape(self.output_kernel, self.output_kernel.shape[:2] + (-1,))
        output = ops.einsum("btnh,nho->bto", attended, kernel)
        if self.output_bias is not None:
            output = A.add(output, A.reshape(self.output_bias, (-1,)))
        output = A.reshape(output, lead + out_dims)
        return (output, weights) if return_attention_scores else output

    def _attention_mask(self, q, k, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        """(batch or 1, T, S) booleans from every mask given (None when there is none)."""
        xp = get_array_module(q.data)
        batch, t, s = q.shape[0], q.shape[1], k.shape[1]
        allowed = None
        for name, mask, shape, expand in (("query_mask", query_mask, (batch, t), (slice(None), slice(None), None)),
                                          ("value_mask", value_mask, (batch, s), (slice(None), None, slice(None))),
                                          ("key_mask", key_mask, (batch, s), (slice(None), None, slice(None)))):
            mask = _mask(xp, mask)
            if mask is not None:
                if mask.size != batch * shape[1] or mask.shape[0] != batch:
                    raise ValueError(f"{self.describe()}: {name} must have shape {shape}, got {mask.shape}")
                allowed = _and(allowed, mask.reshape(shape)[expand])
        if use_causal_mask:
            allowed = _and(allowed, causal_mask(xp, t, s))
        mask = _mask(xp, attention_mask)
        if mask is not None:
            try:
                if mask.ndim > 3:
                    raise ValueError
                np.broadcast_shapes(mask.shape, (batch, t, s))
            except ValueError:
                raise ValueError(f"{self.describe()}: attention_mask must have shape (batch, {t}, {s}) or one "
                                 f"that broadcasts to it, such as (batch, 1, {s}); got {mask.shape}") from None
            allowed = _and(allowed, mask.reshape((1,) * (3 - mask.ndim) + mask.shape))
        return allowed

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape[:-1]) + (self.output_shape or (query_shape[-1],))

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self.output_shape, "attention_axes": None, "seed": self.seed,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class Attention(Layer):
    """Dot-product attention on [query, value] or [query, value, key]: softmax(query key^T) value.

    ``use_scale`` learns a scalar on the scores; ``score_mode='concat'`` scores with
    sum(tanh(query + key)). The mask [query_mask, value_mask] hides values and zeroes masked queries."""

    supports_masking = True
    additive = False

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{self.describe()}: score_mode must be 'dot' or 'concat', got {score_mode!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"{self.describe()}: dropout must be in [0, 1), got {dropout!r}")
        self.use_scale, self.score_mode, self.dropout, self.seed = bool(use_scale), score_mode, float(dropout), seed

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.scale = self.add_weight((), "ones", name="scale") if self.use_scale else None
        self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight") \
            if self.score_mode == "concat" else None

    def _check_inputs(self, shapes):
        if not isinstance(shapes, list) or len(shapes) not in (2, 3) or \
                not all(isinstance(s, (list, tuple)) for s in shapes):
            raise ValueError(f"{self.describe()}: expected inputs [query, value] or [query, value, key], got "
                             f"{shapes!r}")
        query, value = shapes[0], shapes[1]
        key = shapes[2] if len(shapes) > 2 else value
        if len(query) != 3 or len(value) != 3 or tuple(key) != tuple(value)[:2] + tuple(key)[2:] or \
                query[-1] != key[-1]:
            raise ValueError(f"{self.describe()}: expected query (batch, Tq, dim), value (batch, Tv, dim_v) and key "
                             f"(batch, Tv, dim), got {[tuple(s) for s in shapes]}")

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, 1, 2))
            return scores if self.scale is None else A.mul(scores, self.scale)
        summed = ops.expand_dims(query, -2) + ops.expand_dims(key, -3)
        summed = summed if self.scale is None else A.mul(summed, self.scale)
        return A.mul(ops.sum(ops.tanh(summed), axis=-1), self.concat_score_weight)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        self._check_inputs([t.shape for t in inputs])
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        xp = get_array_module(query.data)
        query_mask = _mask(xp, mask[0]) if mask else None
        value_mask = _mask(xp, mask[1]) if mask else None
        for name, m, t in (("query", query_mask, query), ("value", value_mask, value)):
            if m is not None and m.shape != t.shape[:2]:
                raise ValueError(f"{self.describe()}: the {name} mask must have shape {t.shape[:2]}, got {m.shape}")
        allowed = None if value_mask is None else value_mask[:, None, :]
        if use_causal_mask:
            allowed = _and(allowed, causal_mask(xp, query.shape[1], key.shape[1]))
        weights = masked_softmax(self._scores(query, key), allowed)
        dropped = ops.dropout(weights, self.dropout, training=bool(training)) if self.dropout else weights
        result = ops.matmul(dropped, value)
        if query_mask is not None:
            result = A.mul(result, query_mask[..., None].astype(result.dtype))
        return (result, weights) if return_attention_scores else result

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask[0] if isinstance(previous_mask, list) else None

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Bahdanau-style: scores sum(scale * tanh(query + key)) with a learned vector ``scale`` (use_scale)."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.scale = self.add_weight((input_shape[0][-1],), "glorot_uniform", name="scale") if self.use_scale \
            else None
        self.concat_score_weight = None

    def _scores(self, query, key):
        summed = ops.tanh(ops.expand_dims(query, -2) + ops.expand_dims(key, -3))
        return ops.sum(summed if self.scale is None else A.mul(summed, self.scale), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode")
        return config
