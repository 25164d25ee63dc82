"""dc.models.clone_model: same architecture, new layers and weights; clone_function, call_function,
input_tensors, shared and nested layers, several outputs, subclassed models."""
import numpy as np
import pytest

import deepcore as dc
from deepcore import layers

rng = np.random.default_rng(4)


def same_outputs_after_copying_weights(model, clone, x):
    clone.set_weights(model.get_weights())
    a, b = model.predict(x, verbose=0), clone.predict(x, verbose=0)
    for p, q in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_sequential_clone_has_new_layers_and_weights():
    model = dc.Sequential([dc.Input((4,)), layers.Dense(5, activation="relu"), layers.Dropout(0.2), layers.Dense(2)])
    clone = dc.models.clone_model(model)
    assert [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert not np.allclose(clone.layers[0].kernel.numpy(), model.layers[0].kernel.numpy())
    x = rng.standard_normal((3, 4)).astype(np.float32)
    same_outputs_after_copying_weights(model, clone, x)
    clone.compile("adam", "mse")  # the clone trains on its own
    clone.fit(x, np.zeros((3, 2), np.float32), verbose=0)


def test_functional_clone_keeps_shared_layers_shared_and_several_outputs():
    a, b = dc.Input((3,), name="a"), dc.Input((3,), name="b")
    shared = layers.Dense(4)
    merged = layers.Concatenate()([shared(a), shared(b)])
    attended, scores = layers.MultiHeadAttention(2, 2)(layers.Reshape((2, 4))(merged),
                                                       layers.Reshape((2, 4))(merged), return_attention_scores=True)
    model = dc.Model([a, b], [layers.Flatten()(attended), scores])
    clone = dc.models.clone_model(model)
    assert len(clone.weights) == len(model.weights)
    dense = [l for l in clone.layers if isinstance(l, layers.Dense)]
    assert len(dense) == 1  # still one shared Dense
    x = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2)]
    same_outputs_after_copying_weights(model, clone, x)


def test_clone_function_call_function_and_input_tensors():
    inputs = dc.Input((6,))
    model = dc.Model(inputs, layers.Dense(2)(layers.Dense(4, name="hidden")(inputs)))

    def widen(layer):
        config = layer.get_config()
        if config["name"] == "hidden":
            config["units"] = 8
        return type(layer).from_config(config)

    clone = dc.models.clone_model(model, clone_function=widen)
    assert clone.get_layer("hidden").units == 8
    seen = []

    def call_function(layer, *args, **kwargs):
        seen.append(layer.name)
        return layer(*args, **kwargs)

    new_input = dc.Input((6,), name="fresh")
    clone = dc.models.clone_model(model, input_tensors=new_input, call_function=call_function)
    assert clone.inputs[0] is new_input and seen == [l.name for l in clone.layers[1:]]


def test_nested_models_recursive_and_subclassed():
    inner = dc.Sequential([dc.Input((3,)), layers.Dense(3)], name="inner")
    inputs = dc.Input((3,))
    outer = dc.Model(inputs, layers.Dense(1)(inner(inputs)))
    dense_names = []

    def record(layer):
        dense_names.append(type(layer).__name__)
        return type(layer).from_config(layer.get_config())

    clone = dc.models.clone_model(outer, clone_function=record, recursive=True)
    assert dense_names == ["Dense", "Dense"]  # the nested model's layer went through clone_function too
    assert clone.layers[1] is not inner
    same_outputs_after_copying_weights(outer, clone, rng.standard_normal((2, 3)).astype(np.float32))

    class Tiny(dc.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {"units": self.units, "name": self.name}

    twin = dc.models.clone_model(Tiny(5))
    assert isinstance(twin, Tiny) and twin.units == 5
    with pytest.raises(ValueError, match="Sequential and functional models only"):
        dc.models.clone_model(Tiny(), clone_function=record)
    with pytest.raises(ValueError, match="expected a Model"):
        dc.models.clone_model(layers.Dense(2))
