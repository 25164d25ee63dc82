"""The walks Layer skips or shares (layers/base.py): add_loss values still cleared by the next outermost call of
their own model only, conditional add_loss terms gone when the next call adds none, regularizer penalties
present once any weight has one (also one set by hand on a Variable), and weights in the order of the recursive (Keras) definition."""
import numpy as np

import deepcore as dc
from deepcore import layers, ops


class MaybePenalty(layers.Layer):
    def call(self, inputs, training=None):
        if training:
            self.add_loss(ops.sum(inputs))
        return inputs


def _recursive_trainable_weights(layer):
    """The definition trainable_weights had before the walk: own trainable weights, then each sublayer's."""
    if not layer.trainable:
        return []
    found = [w for w in layer._own_weights() if w.trainable]
    for sub in layer._sublayers():
        found += [w for w in _recursive_trainable_weights(sub) if all(w is not f for f in found)]
    return found


def test_add_loss_terms_of_a_call_replace_the_previous_calls_and_only_in_the_called_model():
    x = np.ones((2, 3), np.float32)
    first = dc.Sequential([layers.Dense(3), MaybePenalty()])
    second = dc.Sequential([layers.Dense(3), MaybePenalty()])
    first(x, training=True)
    second(x, training=True)
    assert len(first.losses) == 1 and len(second.losses) == 1
    second(x, training=False)  # no add_loss this time: the old term goes, first's stays
    assert second.losses == [] and len(first.losses) == 1
    first(x)
    assert first.losses == []
    first(x, training=True)
    np.testing.assert_allclose(float(first.losses[0].numpy()), first.layers[0](x).numpy().sum(), rtol=1e-6)


def test_penalty_and_add_loss_order_and_a_model_without_either():
    x = np.ones((2, 3), np.float32)
    plain = dc.Sequential([layers.Dense(2)])
    plain(x)
    assert plain.losses == []
    model = dc.Sequential([layers.Dense(3, kernel_regularizer="l2"), MaybePenalty(), layers.Dense(2)])
    model(x, training=True)
    kernel = model.layers[0].kernel.numpy()
    values = [float(v.numpy()) for v in model.losses]
    assert len(values) == 2  # the add_loss term first, then the L2 penalty
    np.testing.assert_allclose(values[1], 0.01 * (kernel ** 2).sum(), rtol=1e-6)
    assert plain.losses == []


def test_a_regularizer_set_by_hand_on_a_variable_counts_before_any_add_weight_regularizer(monkeypatch):
    monkeypatch.setattr(dc.Variable, "regularized", 0)  # as in a fresh process
    layer = layers.Dense(2)
    layer.build((None, 3))
    assert layer.losses == []
    layer.kernel.regularizer = dc.regularizers.L2(0.5)
    (penalty,) = layer.losses
    np.testing.assert_allclose(float(penalty.numpy()), 0.5 * (layer.kernel.numpy() ** 2).sum(), rtol=1e-6)


def test_weights_follow_the_recursive_definition_with_shared_and_frozen_sublayers():
    shared = layers.Dense(2)

    class Branch(layers.Layer):
        def __init__(self, frozen):
            super().__init__()
            self.inner = [layers.Dense(2), shared]
            self.frozen = frozen
            self.scale = dc.Variable(np.ones(2, np.float32))

        def call(self, x):
            return self.frozen(self.inner[1](self.inner[0](x))) * self.scale

    class Tree(layers.Layer):
        def __init__(self):
            super().__init__()
            frozen = layers.Dense(2)
            self.a = Branch(frozen)
            self.b = {"again": shared, "branch": Branch(frozen)}
            self.frozen = frozen
            frozen.trainable = False

        def call(self, x):
            return self.b["branch"](self.a(x)) + self.b["again"](x)

    tree = Tree()
    tree(np.ones((3, 2), np.float32))
    expected = _recursive_trainable_weights(tree)
    assert [id(w) for w in tree.trainable_weights] == [id(w) for w in expected]
    assert len(tree.weights) == 2 * 1 + 2 * 2 + 2 + 2  # scales, two inner Dense, shared, frozen
    assert len(tree.non_trainable_weights) == 2


def test_a_deep_copy_holding_add_loss_values_has_them_cleared_by_its_next_call():
    import copy

    x = np.ones((2, 3), np.float32)
    model = dc.Sequential([layers.Dense(3), MaybePenalty()])
    model(x, training=True)
    clone = copy.deepcopy(model)
    model(x)  # the original's terms go; the copy keeps its own until it is called
    assert model.losses == [] and len(clone.losses) == 1
    clone(x)
    assert clone.losses == []
