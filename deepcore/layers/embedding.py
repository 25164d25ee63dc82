"""Embedding: integer ids -> rows of a learned table of shape (input_dim, output_dim)."""
from __future__ import annotations

from .. import constraints, initializers, regularizers
from ..autograd.tensor import unwrap
from ..ops.embedding import embedding
from .base import Layer, positive_int


class Embedding(Layer):
    """Keras' Embedding (weight ``embeddings``); ``mask_zero=True`` masks the steps whose id is 0."""

    input_min_ndim = 1

    def __init__(self, input_dim, output_dim, embeddings_initializer="random_uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        who = self.describe()
        self.input_dim = positive_int(who, "input_dim", input_dim)
        self.output_dim = positive_int(who, "output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)

    def build(self, input_shape):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, name="embeddings")

    def _check_built_shape(self, shape):
        """Ids of any shape: the table does not depend on it."""

    def call(self, inputs, training=None):
        try:
            return embedding(unwrap(inputs), self.embeddings)
        except ValueError as error:
            raise ValueError(f"{self.describe()}: {error}") from None

    def compute_mask(self, inputs, previous_mask=None):
        return unwrap(inputs) != 0 if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}
