"""Recurrent layers SimpleRNN, LSTM, GRU with Keras' arguments and weight layouts
(kernel (features, k*units), recurrent_kernel (units, k*units), bias).

Each layer runs the whole sequence in one op with explicit backpropagation
through time (ops/recurrent.py). Initial states come as ``initial_state=[...]``
or as extra list inputs ``layer([x, h0, ...])``. With ``return_state=True`` the
layer returns ``[output, *final_states]``; in a functional model each of those
is picked by a ``SelectOutput`` node. A mask (batch, timesteps) — from ``Embedding(mask_zero=True)``,
``Masking`` or ``mask=`` — makes masked steps carry the states over, so their output repeats the
previous one (zeros with ``zero_output_for_mask=True``), as Keras. Differences from Keras: no
``stateful``; ``unroll`` is accepted and changes nothing.
"""
from __future__ import annotations

from .. import activations, initializers, ops, regularizers
from ..autograd import arithmetic as A
from ..backend import get_array_module, random, to_device
from ..backend.device import device_of
from ..ops import recurrent as R
from .activation import number
from .base import KerasTensor, Layer, SelectOutput, positive_int
from .masking import check_mask, on_device_of


class _RNN(Layer):
    input_ndim = 3
    input_axes = "batch, timesteps, features"
    gates = 1  # blocks of ``units`` columns in the kernels
    state_count = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.units = positive_int(who, "units", units)
        self.activation = self._activation_name("activation", activation)
        self.recurrent_activation = self._activation_name("recurrent_activation", recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = number(who, "dropout", dropout, 0.0)
        self.recurrent_dropout = number(who, "recurrent_dropout", recurrent_dropout, 0.0)
        if self.dropout >= 1 or self.recurrent_dropout >= 1:
            raise ValueError(f"{who}: dropout and recurrent_dropout must be in [0, 1), got {dropout!r} and "
                             f"{recurrent_dropout!r}")
        if stateful:
            raise ValueError(f"{who}: stateful=True is not supported")
        self.seed = seed
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), False, bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)

    def _activation_name(self, argument, value):
        name = "linear" if value is None else value if isinstance(value, str) else \
            activations.serialize(activations.get(value))
        if name not in R.ACTIVATIONS:
            raise ValueError(f"{self.describe()}: {argument} must be one of {sorted(R.ACTIVATIONS)}, got {value!r}")
        return name

    # --- inputs and states ------------------------------------------------------
    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            inputs = [inputs] + states
        return super().__call__(inputs, training=training, **kwargs)

    def build(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        x_shape, states = tuple(shapes[0]), shapes[1:]
        self.check_input_shape(x_shape)
        if states and (len(states) != self.state_count or
                       any(len(s) != 2 or s[1] != self.units for s in states)):
            raise ValueError(f"{self.describe()}: expected {self.state_count} initial state(s) of shape "
                             f"(batch, {self.units}), got {[tuple(s) for s in states]}")
        columns = self.gates * self.units
        self.kernel = self.add_weight((x_shape[-1], columns), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, columns), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer, name="recurrent_kernel")
        self.bias = self.add_weight(self.bias_shape(), self.bias_init(), regularizer=self.bias_regularizer,
                                    name="bias") if self.use_bias else None

    def bias_shape(self):
        return (self.gates * self.units,)

    def bias_init(self):
        return self.bias_initializer

    def _prepare(self, inputs, training, mask=None):
        """(x, initial states, recurrent mask, step mask) with go_backwards, input dropout and zero states
        applied."""
        x, states = (inputs[0], list(inputs[1:])) if isinstance(inputs, (list, tuple)) else (inputs, [])
        xp = get_array_module(x.data)
        if x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.describe()}: expected input of shape (batch, timesteps, "
                             f"{self.kernel.shape[0]}), got shape {x.shape}")
        mask = check_mask(self, mask[0] if isinstance(mask, list) else mask, x.shape[:2])
        self._step_mask = None if mask is None else on_device_of(mask, x)
        if self.go_backwards:
            x = A.getitem(x, (slice(None), slice(None, None, -1)))
            self._step_mask = None if mask is None else self._step_mask[:, ::-1]
        if training and self.dropout:
            x = ops.dropout(x, self.dropout, noise_shape=(x.shape[0], 1, x.shape[2]))
        if not states:
            states = [xp.zeros((x.shape[0], self.units), dtype=x.dtype) for _ in range(self.state_count)]
        mask = None
        if training and self.recurrent_dropout:
            keep = random.generator().random((x.shape[0], self.units)) >= self.recurrent_dropout
            mask = to_device((keep / (1 - self.recurrent_dropout)).astype(x.dtype), device_of(x.data))
        return x, states, mask, self._step_mask

    def _bias(self, x):
        if self.bias is not None:
            return self.bias
        return get_array_module(x.data).zeros(self.bias_shape(), dtype=x.dtype)

    def _finish(self, sequence, states):
        if self.zero_output_for_mask and self._step_mask is not None:
            sequence = A.mul(sequence, self._step_mask[..., None].astype(sequence.dtype))
        output = sequence if self.return_sequences else A.getitem(sequence, (slice(None), -1))
        return [output] + states if self.return_state else output

    def compute_mask(self, inputs, previous_mask=None):
        """The input mask on the output sequence (Keras); none on a last output or on states."""
        mask = previous_mask[0] if isinstance(previous_mask, list) else previous_mask
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * self.state_count if self.return_state else output_mask

    def compute_output_shape(self, input_shape):
        x_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        if self.return_sequences:
            return (x_shape[0], x_shape[1], self.units)
        return (x_shape[0], self.units)

    def _call_symbolic(self, inputs, **kwargs):
        node = super()._call_symbolic(inputs, **kwargs)
        if not self.return_state:
            return node
        shapes = [node.shape] + [(node.shape[0], self.units)] * self.state_count
        return [KerasTensor(shape, layer=SelectOutput(i, name=f"{self.name}_output_{i}"), inputs=[node])
                for i, shape in enumerate(shapes)]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": False, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}


class SimpleRNN(_RNN):
    """h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias) (Elman 1990)."""

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)

    def call(self, inputs, training=None, mask=None):
        x, (h0,), dropout_mask, step_mask = self._prepare(inputs, training, mask)
        sequence = R.simple_rnn(x, self.kernel, self.recurrent_kernel, self._bias(x), h0, self.activation,
                                dropout_mask, step_mask)
        return self._finish(sequence, [A.getitem(sequence, (slice(None), -1))])


class LSTM(_RNN):
    """Gates i, f, c, o side by side in kernel (features, 4 units); unit_forget_bias starts the forget
    gate's bias at 1 (Jozefowicz et al. 2015). States [h, c]."""

    gates, state_count = 4, 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def forget_bias_one(shape, dtype="float32"):
            input_gate = base((units,), dtype)
            xp = get_array_module(input_gate)
            return xp.concatenate([input_gate, xp.ones((units,), dtype), base((2 * units,), dtype)])
        return forget_bias_one

    def call(self, inputs, training=None, mask=None):
        x, (h0, c0), dropout_mask, step_mask = self._prepare(inputs, training, mask)
        both = R.lstm(x, self.kernel, self.recurrent_kernel, self._bias(x), h0, c0, self.activation,
                      self.recurrent_activation, dropout_mask, step_mask)
        sequence = A.getitem(both, (Ellipsis, slice(None, self.units)))
        states = [A.getitem(both, (slice(None), -1, slice(None, self.units))),
                  A.getitem(both, (slice(None), -1, slice(self.units, None)))]
        return self._finish(sequence, states)

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """Gates z, r, h side by side in kernel (features, 3 units); reset_after=True (Keras' default) applies
    the reset gate after the recurrent GEMM and keeps separate input and recurrent biases, bias (2, 3 units)."""

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.reset_after = bool(reset_after)

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, training=None, mask=None):
        x, (h0,), dropout_mask, step_mask = self._prepare(inputs, training, mask)
        sequence = R.gru(x, self.kernel, self.recurrent_kernel, self._bias(x), h0, self.activation,
                         self.recurrent_activation, self.reset_after, dropout_mask, step_mask)
        return self._finish(sequence, [A.getitem(sequence, (slice(None), -1))])

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}
