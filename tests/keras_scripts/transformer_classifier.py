"""Keras' example "Text classification with Transformer", on synthetic padded sequences, run on deepcore.

The Keras 3 code with ``import keras`` replaced by ``import deepcore as keras``. As in Keras' masking
guide, the embedding masks the padding (``mask_zero=True``), the transformer block takes the mask and
passes it on (``supports_masking``), attention ignores padded keys and the pooling padded steps.
tests/keras_scripts/test_keras_scripts.py runs it.
"""
import numpy as np

import deepcore as keras
from deepcore import layers, ops

keras.utils.set_random_seed(7)


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        padding_mask = None
        if mask is not None:
            padding_mask = ops.cast(mask[:, None, :], "int32")  # (batch, 1, steps): no attention to padding
        attn_output = self.att(inputs, inputs, attention_mask=padding_mask)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim, mask_zero=True)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions

    def compute_mask(self, inputs, mask=None):
        return self.token_emb.compute_mask(inputs)


# Synthetic "reviews": token ids 1..19 of random lengths 3..16, zero-padded after the end; the label says
# whether token 7 occurs more often than token 8.
vocab_size, maxlen = 20, 16
rng = np.random.default_rng(7)


def make_data(count):
    lengths = rng.integers(3, maxlen + 1, count)
    sequences = [list(rng.integers(1, vocab_size, n)) for n in lengths]
    labels = np.array([int(s.count(7) > s.count(8)) for s in sequences])
    return keras.utils.pad_sequences(sequences, maxlen=maxlen, padding="post"), labels


x_train, y_train = make_data(768)
x_val, y_val = make_data(256)
print(len(x_train), "training sequences;", len(x_val), "validation sequences")

embed_dim = 16  # Embedding size for each token
num_heads = 2  # Number of attention heads
ff_dim = 32  # Hidden layer size in feed forward network inside transformer

inputs = layers.Input(shape=(None,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
x = layers.Dense(20, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=6, validation_data=(x_val, y_val), verbose=0)
print({k: [round(v, 3) for v in values] for k, values in history.history.items()})
val_accuracy = history.history["val_accuracy"][-1]

# Padding is invisible to the model: sequences of up to 10 tokens give the same predictions whether they
# are padded to 10 steps or to 16.
short = x_val[(x_val != 0).sum(axis=1) <= 10]
padding_gap = float(np.abs(model.predict(short[:, :10], verbose=0) - model.predict(short, verbose=0)).max())
print(f"validation accuracy {val_accuracy:.3f}; largest change from extra padding {padding_gap:.2e}")
