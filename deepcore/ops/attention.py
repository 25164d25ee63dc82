"""Scaled dot-product attention (Vaswani et al. 2017) and the masked softmax it needs: keras.ops'
``dot_product_attention`` and the core of the MultiHeadAttention and Attention layers."""
from __future__ import annotations

import math

import numpy as np

from ..autograd import arithmetic as A
from ..autograd.tensor import unwrap
from ..backend import get_array_module
from . import activations as act
from .core import floating, operands


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """softmax(q k^T * scale + bias, masked) v for (batch, seq, heads, head_dim) tensors (Vaswani et al. 2017).

    ``mask`` (broadcastable to (batch, heads, q_seq, kv_seq)) is True where attention is allowed;
    ``is_causal`` also hides later keys. scale defaults to 1/sqrt(head_dim).
    """
    from .products import einsum
    q, k, v = operands(floating(query), floating(key), floating(value))
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4 or q.shape[-1] != k.shape[-1] or k.shape[:2] != v.shape[:2]:
        raise ValueError(f"dot_product_attention: expected (batch, seq, heads, head_dim) tensors with matching "
                         f"sizes, got query {q.shape}, key {k.shape}, value {v.shape}")
    scores_shape = (q.shape[0], q.shape[2], q.shape[1], k.shape[1])
    allowed = attention_allowed(scores_shape, mask, is_causal, get_array_module(q.data))
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    logits = A.mul(einsum("btnh,bsnh->bnts", q, k), scale)
    if attn_logits_soft_cap is not None:
        logits = A.mul(act.tanh(A.mul(logits, 1.0 / attn_logits_soft_cap)), attn_logits_soft_cap)
    if bias is not None:
        logits = A.add(logits, operands(logits, bias)[1])
    weights = masked_softmax(logits, allowed)
    return einsum("bnts,bsnh->btnh", weights, v)


def attention_allowed(shape, mask, is_causal, xp):
    """The boolean (..., q, k) pattern of allowed positions from a mask and/or causality (None: all)."""
    allowed = None
    if mask is not None:
        allowed = xp.asarray(unwrap(mask)).astype(bool)
        try:
            np.broadcast_shapes(allowed.shape, tuple(shape))
        except ValueError:
            raise ValueError(f"attention mask of shape {allowed.shape} does not broadcast to the attention "
                             f"scores' shape {tuple(shape)}") from None
    if is_causal:  # query i sees keys 0..i (Keras' lower triangle, aligned top-left)
        causal = xp.tril(xp.ones(shape[-2:], dtype=bool))
        allowed = causal if allowed is None else allowed & causal
    return allowed


def masked_softmax(x, allowed):
    """Softmax over the last axis with disallowed entries set to -1e9 first, as Keras (so a row with
    nothing allowed comes out uniform)."""
    if allowed is None:
        return act.softmax(x, axis=-1)
    from .numpy_math import where
    return act.softmax(where(allowed, x, -1e9), axis=-1)
