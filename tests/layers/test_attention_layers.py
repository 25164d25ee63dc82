"""MultiHeadAttention, Attention and AdditiveAttention against attention written here in NumPy,
with masks, causality, returned scores, functional models and saving."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers
from deepcore.autograd import Tensor, grad_check

from layer_harness import run_layer_test

rng = np.random.default_rng(9)


def softmax_masked(scores, allowed):
    scores = scores if allowed is None else np.where(allowed, scores, -1e9)
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def reference_mha(layer, query, value, key=None, allowed=None):
    """Keras' MultiHeadAttention: per-head projections, scaled dot products, softmax, output projection."""
    key = value if key is None else key
    w = [v.numpy().astype(np.float64) for v in layer.weights]
    qk, qb, kk, kb, vk, vb, ok, ob = w
    q = np.einsum("btd,dnh->btnh", query, qk) + qb
    k = np.einsum("bsd,dnh->bsnh", key, kk) + kb
    v = np.einsum("bsd,dnh->bsnh", value, vk) + vb
    scores = np.einsum("btnh,bsnh->bnts", q / np.sqrt(layer.key_dim), k)
    weights = softmax_masked(scores, None if allowed is None else allowed[:, None])
    out = np.einsum("bnts,bsnh->btnh", weights, v)
    return np.einsum("btnh,nho->bto", out, ok) + ob, weights


def test_multi_head_attention_matches_reference_and_keras_weight_layout():
    query, value, key = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 6)), rng.standard_normal((2, 5, 4))
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, output_shape=7)
    out, scores = layer(query.astype(np.float32), value.astype(np.float32), key=key.astype(np.float32),
                        return_attention_scores=True)
    assert [w.shape for w in layer.weights] == [(4, 2, 3), (2, 3), (4, 2, 3), (2, 3), (6, 2, 2), (2, 2), (2, 2, 7),
                                                (7,)]
    expected, expected_scores = reference_mha(layer, query, value, key)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), expected_scores, rtol=1e-4, atol=1e-6)


def test_multi_head_attention_masks_combine_with_and():
    x = rng.standard_normal((2, 4, 6)).astype(np.float32)
    ids = np.array([[1, 2, 3, 0], [4, 0, 0, 0]])
    layer = layers.MultiHeadAttention(2, 3)
    keep = ids != 0
    masked = layers.Masking()(x * keep[..., None])
    attention_mask = rng.random((2, 4, 4)) > 0.2
    out, scores = layer(masked, masked, attention_mask=attention_mask, use_causal_mask=True,
                        return_attention_scores=True)
    causal = np.tril(np.ones((4, 4), bool))[None]
    allowed = keep[:, :, None] & keep[:, None, :] & causal & attention_mask
    expected, expected_scores = reference_mha(layer, x * keep[..., None], x * keep[..., None], allowed=allowed)
    np.testing.assert_allclose(scores.numpy(), expected_scores, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out._keras_mask, keep)  # the query's mask goes on


def test_multi_head_attention_input_gradients_float64():
    layer = layers.MultiHeadAttention(2, 2, dtype="float64")
    q, v = rng.standard_normal((1, 3, 3)), rng.standard_normal((1, 4, 3))
    layer(q, v)
    mask = np.array([[[1, 1, 0, 1], [1, 0, 0, 0], [1, 1, 1, 1]]], bool)
    grad_check(lambda a, b: layer(a, b, attention_mask=mask), [q, v])


def test_multi_head_attention_in_a_functional_model_saves_and_loads(tmp_path):
    tokens = dc.Input((6,), dtype="int32")
    x = layers.Embedding(20, 8, mask_zero=True)(tokens)
    attended, scores = layers.MultiHeadAttention(2, 4, dropout=0.1)(x, x, use_causal_mask=True,
                                                                    return_attention_scores=True)
    pooled = layers.GlobalAveragePooling1D()(layers.LayerNormalization()(layers.Add()([x, attended])))
    model = dc.Model(tokens, [layers.Dense(2)(pooled), scores])
    assert scores.shape == (None, 2, 6, 6)
    ids = rng.integers(1, 20, (3, 6))
    ids[:, 4:] = 0
    before = model.predict(ids, verbose=0)
    path = tmp_path / "mha.keras"
    model.save(path)
    again = dc.models.load_model(path)
    for a, b in zip(before, again.predict(ids, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert np.allclose(np.triu(before[1][0, 0, :4], 1), 0)  # causal: nothing above the diagonal (valid queries)


def reference_attention(query, value, key, scale=1.0, value_mask=None, causal=False, concat=None):
    if concat is None:
        scores = scale * query @ key.transpose(0, 2, 1)
    else:
        scores = concat(query[:, :, None, :] + key[:, None, :, :])
    allowed = None if value_mask is None else value_mask[:, None, :]
    if causal:
        tri = np.tril(np.ones(scores.shape[1:], bool))[None]
        allowed = tri if allowed is None else allowed & tri
    weights = softmax_masked(scores, allowed)
    return weights @ value, weights


def test_attention_dot_and_concat_with_masks():
    q, v, k = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 6)), rng.standard_normal((2, 5, 4))
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], bool)
    query_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    layer = layers.Attention(use_scale=True)
    out, weights = layer([q, v, k], mask=[query_mask, value_mask], return_attention_scores=True)
    expected, expected_weights = reference_attention(q, v, k, 1.0, value_mask)
    np.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out.numpy(), expected * query_mask[..., None], rtol=1e-6, atol=1e-7)
    concat = layers.Attention(score_mode="concat")
    out = concat([q, v, k], use_causal_mask=True)
    expected, _ = reference_attention(q, v, k, causal=True, concat=lambda s: np.tanh(s).sum(-1))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-7)
    additive = layers.AdditiveAttention()
    out = additive([q, v, k])
    scale = additive.scale.numpy()
    expected, _ = reference_attention(q, v, k, concat=lambda s: (scale * np.tanh(s)).sum(-1))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,kwargs,weights", [(layers.Attention, {"use_scale": True}, 1),
                                                (layers.Attention, {"score_mode": "concat"}, 1),
                                                (layers.AdditiveAttention, {}, 1)])
def test_attention_layers_with_the_harness(cls, kwargs, weights):
    run_layer_test(cls, kwargs, [(2, 3, 4), (2, 5, 4)], (2, 3, 4), expected_num_weights=weights)


def test_attention_bad_inputs_raise_before_compute():
    x = np.zeros((2, 4, 6), np.float32)
    mha = layers.MultiHeadAttention(2, 3)
    with pytest.raises(ValueError, match="attention_mask must have shape \\(batch, 4, 4\\)"):
        mha(x, x, attention_mask=np.ones((2, 4, 5), bool))
    with pytest.raises(ValueError, match="query_mask must have shape"):
        mha(x, x, query_mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match="num_heads must be a positive int"):
        layers.MultiHeadAttention(0, 3)
    with pytest.raises(ValueError, match="expected inputs \\[query, value\\]"):
        layers.Attention()(x)
    with pytest.raises(ValueError, match="value mask must have shape"):
        layers.Attention()([x, x], mask=[None, np.ones((2, 3), bool)])


def test_multi_head_attention_config_round_trip():
    layer = layers.MultiHeadAttention(4, 8, value_dim=6, dropout=0.2, output_shape=(5,), use_bias=False, name="mha")
    clone = layers.MultiHeadAttention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    x = Tensor(rng.standard_normal((2, 3, 10)).astype(np.float32))
    assert clone(x, x).shape == (2, 3, 5) and len(clone.weights) == 4
