"""Masking: Masking and Embedding(mask_zero=True) make masks, layers pass them on, RNNs skip masked
steps (checked against running each sequence unpadded), pooling and losses ignore them."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers, ops
from deepcore.autograd import grad_check
from deepcore.layers.base import get_mask
from deepcore.ops import recurrent as R

rng = np.random.default_rng(5)
LENGTHS = [5, 3, 1]


def padded_batch(features=4, steps=5):
    x = rng.standard_normal((len(LENGTHS), steps, features)).astype(np.float32)
    for i, n in enumerate(LENGTHS):
        x[i, n:] = 0.0
    return x


def test_masking_layer_masks_and_zeroes_steps_equal_to_mask_value():
    x = padded_batch()
    x[0, 1] = -1.0
    out = layers.Masking(mask_value=-1.0)(x)
    expected = np.any(x != -1.0, axis=-1)
    np.testing.assert_array_equal(get_mask(out), expected)
    np.testing.assert_allclose(out.numpy(), x * expected[..., None])


def test_embedding_mask_zero_and_propagation_through_mask_supporting_layers():
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    emb = layers.Embedding(5, 3, mask_zero=True)
    y = layers.Dropout(0.5)(layers.Dense(3)(emb(ids)))
    np.testing.assert_array_equal(get_mask(y), ids != 0)
    assert get_mask(layers.Flatten()(emb(ids))) is None  # a layer without mask support drops it
    assert get_mask(layers.Embedding(5, 3)(ids)) is None
    config = emb.get_config()
    assert config["mask_zero"] is True and layers.Embedding.from_config(config).mask_zero


def reference_last_states(layer, x):
    """Run the same layer on each sequence cut to its length: what masking must reproduce."""
    return np.concatenate([layer(x[i:i + 1, :n]).numpy() for i, n in enumerate(LENGTHS)])


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_rnn_skips_masked_steps(cls):
    x = padded_batch()
    layer = cls(3)
    masked = layer(layers.Masking()(x))
    np.testing.assert_allclose(masked.numpy(), reference_last_states(layer, x), rtol=1e-5, atol=1e-6)
    sequences = cls(3, return_sequences=True)
    out = sequences(x, mask=np.any(x != 0, -1))
    full = sequences(x[:1]).numpy()
    np.testing.assert_allclose(out.numpy()[0], full[0], rtol=1e-5, atol=1e-6)
    short = out.numpy()[1]
    np.testing.assert_allclose(short[LENGTHS[1]:], np.repeat(short[LENGTHS[1] - 1:LENGTHS[1]], 2, 0), rtol=1e-6)
    zeros = cls(3, return_sequences=True, zero_output_for_mask=True)
    zeros.build(x.shape)
    zeros.set_weights(sequences.get_weights())
    np.testing.assert_array_equal(zeros(layers.Masking()(x)).numpy()[1, LENGTHS[1]:], 0)


def test_rnn_sequence_output_keeps_the_mask_and_bidirectional_masks_both_ways():
    x = padded_batch()
    masked = layers.Masking()(x)
    seq = layers.LSTM(2, return_sequences=True)(masked)
    np.testing.assert_array_equal(get_mask(seq), np.any(x != 0, -1))
    assert get_mask(layers.LSTM(2)(masked)) is None
    bi = layers.Bidirectional(layers.GRU(2))
    out = bi(masked).numpy()
    forward = reference_last_states(bi.forward_layer, x)
    backward = np.concatenate([bi.backward_layer(x[i:i + 1, :n]).numpy() for i, n in enumerate(LENGTHS)])
    np.testing.assert_allclose(out, np.concatenate([forward, backward], -1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op,states", [(R.simple_rnn, 1), (R.lstm, 2), (R.gru, 1)])
def test_masked_recurrent_ops_gradients(op, states):
    n, t, f, u = 3, 4, 2, 2
    gates = {R.simple_rnn: 1, R.lstm: 4, R.gru: 3}[op]
    x, w, rk = rng.standard_normal((n, t, f)), rng.standard_normal((f, gates * u)), rng.standard_normal((u, gates * u))
    b = rng.standard_normal((2, gates * u) if op is R.gru else (gates * u,))
    h0 = [rng.standard_normal((n, u)) for _ in range(states)]
    step_mask = np.array([[1, 1, 0, 0], [0, 1, 1, 1], [1, 0, 1, 0]], bool)  # leading, trailing and inner gaps
    grad_check(lambda *a: op(*a, step_mask=step_mask), [x, w, rk, b, *h0])


def test_global_average_pooling_averages_unmasked_steps_only():
    x = padded_batch()
    out = layers.GlobalAveragePooling1D()(layers.Masking()(x))
    expected = np.stack([x[i, :n].mean(0) for i, n in enumerate(LENGTHS)])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert get_mask(out) is None


def test_merge_and_softmax_masks():
    x = padded_batch()
    a, b = layers.Masking()(x), layers.Masking()(x[:, ::-1].copy())
    np.testing.assert_array_equal(get_mask(layers.Add()([a, b])), get_mask(a) & get_mask(b))
    joined = layers.Concatenate(axis=1)([a, b])
    np.testing.assert_array_equal(get_mask(joined), np.concatenate([get_mask(a), get_mask(b)], 1))
    scores = rng.standard_normal((2, 4)).astype(np.float32)
    keep = np.array([[1, 1, 0, 1], [1, 0, 0, 0]], bool)
    probabilities = layers.Softmax()(scores, mask=keep).numpy()
    expected = np.where(keep, np.exp(scores), 0)
    np.testing.assert_allclose(probabilities, expected / expected.sum(-1, keepdims=True), atol=1e-6)


def test_masked_sequence_loss_averages_valid_steps_and_trains():
    ids = np.array([[4, 2, 3, 0], [1, 0, 0, 0], [2, 2, 0, 0]])
    labels = np.array([[1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 0, 0]])
    inputs = dc.Input((4,), dtype="int32")
    x = layers.Embedding(5, 6, mask_zero=True)(inputs)
    x = layers.LSTM(5, return_sequences=True)(x)
    outputs = layers.Dense(2)(x)
    model = dc.Model(inputs, outputs)
    loss = dc.losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = model(ids)
    log_p = logits.numpy() - np.log(np.exp(logits.numpy()).sum(-1, keepdims=True))
    per_step = -np.take_along_axis(log_p, labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(float(loss(labels, logits).numpy()), per_step[ids != 0].mean(), rtol=1e-5)
    model.compile("adam", loss, metrics=["sparse_categorical_accuracy"])
    before, _ = model.evaluate(ids, labels, verbose=0)
    model.fit(ids, labels, epochs=20, verbose=0)
    after, accuracy = model.evaluate(ids, labels, verbose=0)
    assert after < before
    predicted = model.predict(ids, verbose=0).argmax(-1)
    assert accuracy == pytest.approx((predicted == labels)[ids != 0].mean())  # padded steps do not count


def test_wrong_mask_shapes_raise_before_compute():
    with pytest.raises(ValueError, match="GRU .*mask must have shape"):
        layers.GRU(2)(padded_batch(), mask=np.ones((3, 4), bool))
    with pytest.raises(ValueError, match="GlobalAveragePooling1D .*mask must have shape"):
        layers.GlobalAveragePooling1D()(padded_batch(), mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match="mask of shape"):
        dc.losses.MeanSquaredError()(np.zeros((3, 5)), _with_mask(np.zeros((3, 5), np.float32), np.ones((3, 4))))
    with pytest.raises(ValueError, match="does not broadcast"):
        ops.dot_product_attention(np.zeros((1, 2, 1, 2)), np.zeros((1, 3, 1, 2)), np.zeros((1, 3, 1, 2)),
                                  mask=np.ones((2, 2), bool))


def _with_mask(array, mask):
    tensor = ops.convert_to_tensor(array)
    tensor._keras_mask = mask
    return tensor
