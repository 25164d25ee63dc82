"""Recurrent layers, Embedding and wrappers: harness, Keras weight layouts against torch, states,
go_backwards, functional models with return_state/initial_state, argument errors."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers

from layer_harness import run_layer_test

rng = np.random.default_rng(31)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape,n_weights", [
    (layers.SimpleRNN, {"units": 4}, (2, 5, 3), (2, 4), 3),
    (layers.SimpleRNN, {"units": 4, "return_sequences": True, "activation": "relu", "use_bias": False},
     (2, 5, 3), (2, 5, 4), 2),
    (layers.LSTM, {"units": 3}, (2, 5, 4), (2, 3), 3),
    (layers.LSTM, {"units": 3, "return_sequences": True, "go_backwards": True, "dropout": 0.2,
                   "recurrent_dropout": 0.3}, (2, 5, 4), (2, 5, 3), 3),
    (layers.GRU, {"units": 3}, (2, 5, 4), (2, 3), 3),
    (layers.GRU, {"units": 3, "reset_after": False, "return_sequences": True}, (2, 5, 4), (2, 5, 3), 3),
    (layers.TimeDistributed, {"layer": layers.Dense(2)}, (2, 5, 4), (2, 5, 2), 2),
    (layers.TimeDistributed, {"layer": layers.Conv2D(2, 3)}, (2, 3, 5, 5, 1), (2, 3, 3, 3, 2), 2),
    (layers.Bidirectional, {"layer": layers.LSTM(3, return_sequences=True)}, (2, 5, 4), (2, 5, 6), 6),
    (layers.Bidirectional, {"layer": layers.GRU(3), "merge_mode": "sum"}, (2, 5, 4), (2, 3), 6),
])
def test_recurrent_harness(cls, kwargs, in_shape, out_shape, n_weights):
    run_layer_test(cls, kwargs, in_shape, out_shape, n_weights)


def test_embedding_harness_and_lookup():
    ids = rng.integers(0, 10, (2, 5))
    layer = run_layer_test(layers.Embedding, {"input_dim": 10, "output_dim": 3}, (2, 5), (2, 5, 3), 1,
                           input_data=ids)
    np.testing.assert_array_equal(layer(ids).numpy(), layer.embeddings.numpy()[ids])


def test_keras_weight_shapes():
    x = np.zeros((2, 5, 4), np.float32)
    for layer, shapes in [(layers.SimpleRNN(3), [(4, 3), (3, 3), (3,)]),
                          (layers.LSTM(3), [(4, 12), (3, 12), (12,)]),
                          (layers.GRU(3), [(4, 9), (3, 9), (2, 9)]),
                          (layers.GRU(3, reset_after=False), [(4, 9), (3, 9), (9,)])]:
        layer(x)
        assert [w.shape for w in layer.get_weights()] == shapes
        assert [w.name.split("/")[-1] for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    lstm = layers.LSTM(3)
    lstm(x)
    np.testing.assert_array_equal(lstm.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # unit_forget_bias
    recurrent = lstm.recurrent_kernel.numpy()
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(3), atol=1e-5)  # orthogonal rows


def torch_rnn(torch, layer, x):
    """Run the matching torch module with this layer's weights (batch_first)."""
    kernel, recurrent, bias = layer.get_weights()
    kind = type(layer).__name__
    module = {"SimpleRNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind](
        kernel.shape[0], layer.units, batch_first=True)
    if kind == "GRU":  # Keras z, r, h -> torch r, z, n
        order = np.r_[layer.units:2 * layer.units, 0:layer.units, 2 * layer.units:3 * layer.units]
        kernel, recurrent, bias_ih, bias_hh = kernel[:, order], recurrent[:, order], bias[0][order], bias[1][order]
    else:
        bias_ih, bias_hh = bias, np.zeros_like(bias)
    with torch.no_grad():
        for name, value in [("weight_ih_l0", kernel.T), ("weight_hh_l0", recurrent.T), ("bias_ih_l0", bias_ih),
                            ("bias_hh_l0", bias_hh)]:
            getattr(module, name).copy_(torch.tensor(np.ascontiguousarray(value)))
    output, _ = module(torch.tensor(x))
    return output.detach().numpy()


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_recurrent_layers_match_torch_when_installed(cls):
    torch = pytest.importorskip("torch")
    layer = cls(4, return_sequences=True, bias_initializer="random_normal")
    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    y = layer(x).numpy()
    np.testing.assert_allclose(y, torch_rnn(torch, layer, x), rtol=1e-4, atol=1e-5)
    backwards = cls.from_config({**layer.get_config(), "go_backwards": True})
    backwards(x)
    backwards.set_weights(layer.get_weights())
    np.testing.assert_allclose(backwards(x).numpy(), torch_rnn(torch, layer, x[:, ::-1].copy()), rtol=1e-4,
                               atol=1e-5)  # Keras returns the reversed sequence, last step first in time


def test_return_state_and_initial_state():
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    lstm = layers.LSTM(4, return_state=True, return_sequences=True)
    sequence, h, c = lstm(x)
    np.testing.assert_allclose(h.numpy(), sequence.numpy()[:, -1])
    first = layers.LSTM(4, return_state=True)
    out_a, h_a, c_a = first(x[:, :3])
    second = layers.LSTM(4)
    second(x[:, 3:])
    # continuing from the first half's states equals running the whole sequence
    second.set_weights(first.get_weights())
    whole = layers.LSTM(4)
    whole(x)
    whole.set_weights(first.get_weights())
    np.testing.assert_allclose(second(x[:, 3:], initial_state=[h_a, c_a]).numpy(), whole(x).numpy(), rtol=1e-5,
                               atol=1e-6)
    gru = layers.GRU(4, return_state=True)
    out, state = gru(x)
    np.testing.assert_allclose(out.numpy(), state.numpy())


def test_encoder_decoder_functional_model_with_states():
    encoder_inputs, decoder_inputs = dc.Input((5, 3)), dc.Input((4, 2))
    _, h, c = layers.LSTM(6, return_state=True)(encoder_inputs)
    decoded = layers.LSTM(6, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    model = dc.Model([encoder_inputs, decoder_inputs], layers.TimeDistributed(layers.Dense(2))(decoded))
    out = model([rng.standard_normal((3, 5, 3)).astype(np.float32), rng.standard_normal((3, 4, 2)).astype(np.float32)])
    assert out.shape == (3, 4, 2)
    model.compile("adam", "mse")
    model.fit([rng.standard_normal((8, 5, 3)), rng.standard_normal((8, 4, 2))], rng.standard_normal((8, 4, 2)),
              epochs=1, verbose=0)


def test_lstm_learns_to_sum_a_sequence():
    dc.utils.set_random_seed(0)
    x = rng.random((256, 6, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) - 3)[:, None]  # centred: variance 0.5
    model = dc.Sequential([dc.Input((6, 1)), layers.LSTM(8), layers.Dense(1)])
    model.compile(dc.optimizers.Adam(0.02), "mse")
    history = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.01


@pytest.mark.parametrize("build,match", [
    (lambda: layers.LSTM(0), "LSTM .*units must be a positive int, got 0"),
    (lambda: layers.GRU(3, dropout=1.0), "GRU .*dropout and recurrent_dropout must be in \\[0, 1\\)"),
    (lambda: layers.SimpleRNN(3, activation="gelu"), "SimpleRNN .*activation must be one of"),
    (lambda: layers.LSTM(3, stateful=True), "LSTM .*stateful=True is not supported"),
    (lambda: layers.LSTM(3)(np.zeros((2, 3), np.float32)), "LSTM .*expected input of rank 3 \\(batch, timesteps"),
    (lambda: layers.LSTM(3)(np.zeros((2, 4, 3), np.float32), initial_state=[np.zeros((2, 3), np.float32)]),
     "LSTM .*expected 2 initial state\\(s\\) of shape \\(batch, 3\\)"),
    (lambda: layers.Embedding(0, 3), "Embedding .*input_dim must be a positive int, got 0"),
    (lambda: layers.LSTM(3)(np.zeros((2, 4, 3), np.float32), mask=np.ones((2, 5), bool)),
     "LSTM .*mask must have shape \\(batch, timesteps\\) = \\(2, 4\\), got \\(2, 5\\)"),
    (lambda: layers.Embedding(5, 3)(np.array([[1, 7]])), "Embedding .*ids must be in \\[0, 5\\)"),
    (lambda: layers.TimeDistributed("dense"), "TimeDistributed .*expected a Layer"),
    (lambda: layers.Bidirectional(layers.Dense(3)), "Bidirectional .*expected a recurrent layer"),
    (lambda: layers.Bidirectional(layers.GRU(3), merge_mode="max"), "Bidirectional .*merge_mode"),
])
def test_bad_arguments_name_the_layer(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_recurrent_model_saves_and_loads(tmp_path):
    encoder_inputs, decoder_inputs = dc.Input((5, 3)), dc.Input((4, 2))
    _, h, c = layers.LSTM(6, return_state=True)(encoder_inputs)
    decoded = layers.Bidirectional(layers.GRU(6, return_sequences=True))(decoder_inputs)
    decoded = layers.LSTM(6, return_sequences=True)(layers.Dense(3)(decoded), initial_state=[h, c])
    model = dc.Model([encoder_inputs, decoder_inputs], layers.TimeDistributed(layers.Dense(2))(decoded))
    xs = [rng.standard_normal((3, 5, 3)).astype(np.float32), rng.standard_normal((3, 4, 2)).astype(np.float32)]
    model.save(tmp_path / "seq2seq.keras")
    loaded = dc.models.load_model(tmp_path / "seq2seq.keras")
    np.testing.assert_allclose(loaded(xs).numpy(), model(xs).numpy(), rtol=1e-6)
