"""One harness for every layer (Keras' run_layer_test idea): shapes, weights, config, a training step.

``input_shape`` may be a list of shapes (merge layers); ``input_data`` replaces the random
standard-normal input (e.g. integer ids for Embedding).
"""
import numpy as np

import deepcore as dc
from deepcore.backend import to_device


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape, expected_num_weights=0,
                   expected_num_trainable=None, seed=0, input_data=None):
    rng = np.random.default_rng(seed)
    several = isinstance(input_shape, list)
    if input_data is None:
        shapes = input_shape if several else [input_shape]
        input_data = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        input_data = input_data if several else input_data[0]
    x = input_data
    layer = layer_cls(**init_kwargs)
    y = layer(x, training=True)
    assert y.shape == tuple(expected_output_shape), f"eager output {y.shape} != {expected_output_shape}"
    assert len(layer.weights) == expected_num_weights
    if expected_num_trainable is not None:
        assert len(layer.trainable_weights) == expected_num_trainable

    symbolic_input = [dc.Input(s[1:]) for s in input_shape] if several else dc.Input(input_shape[1:])
    symbolic = layer_cls(**init_kwargs)(symbolic_input)
    assert symbolic.shape == (None,) + tuple(expected_output_shape[1:])

    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_device(clone(x, training=False).data, "cpu"),
                               to_device(layer(x, training=False).data, "cpu"), rtol=1e-5, atol=1e-6)

    if layer.trainable_weights:  # one training step reaches every trainable weight
        out = layer(x, training=True)
        (out * out).sum().backward()
        for weight in layer.trainable_weights:
            assert weight.grad is not None and weight.grad.shape == weight.shape, weight.name
            weight.grad = None
    return layer
