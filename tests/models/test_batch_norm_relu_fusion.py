"""Models run BatchNormalization (or Add) followed by a plain ReLU as one fused op.

A Sequential and a functional model, each against an unfused twin with the same weights
(built with ``fuses_relu`` switched off), in float64: the same outputs, gradients, moving
statistics and weights after training steps, and the same predictions. The fused kernel
really runs (counted in the kernel table) and the plans fuse exactly the pairs they may.
"""
import contextlib

import numpy as np
import pytest

import deepcore as dc
from deepcore.autograd.function import enable_grad
from deepcore.backend.kernel_table import kernel_table
from deepcore.layers.normalization import fuses_relu
from deepcore.models import model as model_module
from deepcore.models import sequential as sequential_module

L = dc.layers
F64 = {"dtype": "float64"}


def sequential_model(freeze_first=False):
    model = dc.Sequential([
        dc.Input((6, 6, 3)),
        L.Conv2D(4, 3, padding="same", **F64), L.BatchNormalization(**F64), L.ReLU(**F64),
        L.Conv2D(5, 3, **F64), L.BatchNormalization(**F64), L.Activation("relu", **F64),
        L.Flatten(**F64), L.Dense(3, **F64),
    ])
    model.layers[1].trainable = not freeze_first  # frozen: the inference op runs, with its backward
    return model


def functional_model(freeze_first=False, extra_output=False):
    inputs = dc.Input((6, 6, 3))
    h = L.Conv2D(4, 3, padding="same", **F64)(inputs)
    normalized = L.BatchNormalization(trainable=not freeze_first, **F64)(h)
    shortcut = L.ReLU(**F64)(normalized)
    h = L.Conv2D(4, 3, padding="same", **F64)(shortcut)
    h = L.Activation("relu", **F64)(L.BatchNormalization(**F64)(h))
    h = L.Add(**F64)([h, shortcut])
    outputs = L.Dense(3, **F64)(L.Flatten(**F64)(h))
    return dc.Model(inputs, [outputs, normalized] if extra_output else outputs)


BUILDERS = {"sequential": sequential_model, "functional": functional_model,
            "functional_with_bn_output": lambda freeze_first: functional_model(freeze_first, extra_output=True)}


@contextlib.contextmanager
def fusion_off(monkeypatch):
    with monkeypatch.context() as patch:
        for module in (model_module, sequential_module):
            patch.setattr(module, "fuses_relu", lambda layer, consumer: False)
        yield


def twins(build, monkeypatch, **options):
    """(fused, unfused) models with the same weights, plans made."""
    fused = build(**options)
    with fusion_off(monkeypatch):
        unfused = build(**options)
        if isinstance(unfused, dc.Sequential):
            unfused._execution_plan()
    unfused.set_weights(fused.get_weights())
    return fused, unfused


def fused_pairs(model):
    if isinstance(model, dc.Sequential):
        return [layer for layer, fused in model._execution_plan() if fused]
    return [fused.layer for _, fused in model._plan if fused is not None]


@pytest.fixture
def kernel_calls(monkeypatch):
    """How often each fused BatchNorm+ReLU kernel of the CPU table ran."""
    table, calls = kernel_table("cpu"), {}
    for name in ("batchnorm_relu_forward_train", "batchnorm_relu_forward_infer", "batchnorm_relu_backward"):
        def counted(*args, _name=name, _fn=getattr(table, name)):
            calls[_name] = calls.get(_name, 0) + 1
            return _fn(*args)
        monkeypatch.setattr(table, name, counted)
    return calls


def outputs_and_gradients(model, x, projection):
    with enable_grad():
        outputs = model(x, training=True)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        loss = sum((out * p).sum() for out, p in zip(outputs, projection))
        grads = model.compute_gradients(loss, model.trainable_weights)
    return [o.numpy() for o in outputs], grads


def assert_same(got, want, what):
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10, err_msg=f"{what} {i}")


@pytest.mark.parametrize("freeze_first", [False, True], ids=["trainable", "first_bn_frozen"])
@pytest.mark.parametrize("kind", BUILDERS)
def test_fused_model_matches_unfused(kind, freeze_first, monkeypatch, kernel_calls):
    fused, unfused = twins(BUILDERS[kind], monkeypatch, freeze_first=freeze_first)
    assert len(fused_pairs(fused)) == (1 if kind == "functional_with_bn_output" else 2)
    assert fused_pairs(unfused) == []
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6, 6, 3))
    shapes = unfused.compute_output_shape((5, 6, 6, 3))
    shapes = shapes if isinstance(shapes, list) else [shapes]
    projection = [rng.standard_normal((5,) + tuple(s[1:])) for s in shapes]

    kernel_calls.clear()
    want_outputs, want_grads = outputs_and_gradients(unfused, x, projection)
    assert kernel_calls == {}
    got_outputs, got_grads = outputs_and_gradients(fused, x, projection)
    assert_same(got_outputs, want_outputs, "output")
    assert_same(got_grads, want_grads, "gradient")
    train, infer = (1, 1) if freeze_first else (2, 0)
    if kind == "functional_with_bn_output":  # the first pair is not fused: its BatchNorm output is asked for
        train, infer = 1, 0
    assert kernel_calls.get("batchnorm_relu_forward_train", 0) == train
    assert kernel_calls.get("batchnorm_relu_forward_infer", 0) == infer
    assert kernel_calls.get("batchnorm_relu_backward", 0) == train

    y = [rng.integers(0, 3, 5)] + ([rng.standard_normal((5, 6, 6, 4))] if kind == "functional_with_bn_output" else [])
    losses = ["sparse_categorical_crossentropy"] + (["mse"] if len(y) > 1 else [])
    for model in (fused, unfused):
        model.compile(optimizer=dc.optimizers.SGD(0.1, momentum=0.9), loss=losses if len(y) > 1 else losses[0],
                      metrics=[[]] * len(y) if len(y) > 1 else None)
    for _ in range(3):
        target = y if len(y) > 1 else y[0]
        np.testing.assert_allclose(fused.train_on_batch(x, target), unfused.train_on_batch(x, target), rtol=1e-10)
    assert_same(fused.get_weights(), unfused.get_weights(), "weight (moving statistics included)")

    kernel_calls.clear()
    got, want = fused.predict(x, verbose=0), unfused.predict(x, verbose=0)
    assert_same(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want], "prediction")
    assert kernel_calls.get("batchnorm_relu_forward_infer", 0) >= 1


def test_fuses_only_a_plain_relu_after_a_plain_batch_norm():
    bn = L.BatchNormalization()
    assert fuses_relu(bn, L.ReLU()) and fuses_relu(bn, L.Activation("relu"))
    assert fuses_relu(bn, L.Activation(dc.activations.relu))
    for consumer in (L.ReLU(max_value=6.0), L.ReLU(negative_slope=0.1), L.ReLU(threshold=0.5), L.Activation("tanh"),
                     L.LeakyReLU(), L.ReLU(activity_regularizer="l2"), L.Dense(3)):
        assert not fuses_relu(bn, consumer), consumer
    for producer in (L.BatchNormalization(synchronized=True), L.BatchNormalization(activity_regularizer="l2"),
                     L.LayerNormalization(), L.Dense(3)):
        assert not fuses_relu(producer, L.ReLU()), producer


def test_functional_plan_leaves_shared_and_requested_batch_norm_outputs_alone():
    inputs = dc.Input((4, 5))
    shared = L.BatchNormalization()(inputs)
    a = L.ReLU()(shared)
    b = L.Dense(2)(shared)  # a second reader of the BatchNorm output
    requested = L.BatchNormalization()(inputs)
    c = L.ReLU()(requested)
    called_with_options = L.BatchNormalization()(inputs, training=False)
    d = L.ReLU()(called_with_options)
    fused = L.BatchNormalization()(inputs)
    e = L.Activation("relu")(fused)
    model = dc.Model(inputs, [a, b, requested, c, d, e])
    assert fused_pairs(model) == [fused.layer]
    assert sum(1 for node, _ in model._plan if node is fused) == 0  # replaced by the fused ReLU node


def test_sequential_plan_follows_add_and_pop():
    model = sequential_model()
    assert len(fused_pairs(model)) == 2
    model.pop()
    model.pop()
    model.pop()  # Activation('relu'): the second BatchNorm now ends the stack
    assert fused_pairs(model) == [model.layers[1]]
    model.add(L.ReLU())
    assert fused_pairs(model) == [model.layers[1], model.layers[4]]


# ------------------------------------------------------------------------------------------------- Add + ReLU

def residual_model():
    """A residual block's end, Add then a plain ReLU: fused (as is the BatchNorm+ReLU before it)."""
    inputs = dc.Input((6, 6, 3))
    shortcut = L.Conv2D(4, 1, **F64)(inputs)
    h = L.ReLU(**F64)(L.BatchNormalization(**F64)(L.Conv2D(4, 3, padding="same", **F64)(inputs)))
    h = L.ReLU(**F64)(L.Add(**F64)([L.Conv2D(4, 3, padding="same", **F64)(h), shortcut]))
    return dc.Model(inputs, L.Dense(3, **F64)(L.Flatten(**F64)(h)))


def test_add_then_relu_runs_fused_with_the_same_results(monkeypatch):
    fused, unfused = twins(lambda: residual_model(), monkeypatch)
    assert [type(layer).__name__ for layer in fused_pairs(fused)] == ["BatchNormalization", "Add"]
    table, calls = kernel_table("cpu"), []
    monkeypatch.setattr(table, "add_relu_forward", lambda a, b, _fn=table.add_relu_forward: calls.append(1) or _fn(a, b))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 6, 3))
    projection = [rng.standard_normal((4, 3))]
    want_outputs, want_grads = outputs_and_gradients(unfused, x, projection)
    assert calls == []
    got_outputs, got_grads = outputs_and_gradients(fused, x, projection)
    assert calls == [1]
    assert_same(got_outputs, want_outputs, "output")
    assert_same(got_grads, want_grads, "gradient")
    for model in (fused, unfused):
        model.compile(optimizer=dc.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy")
    y = rng.integers(0, 3, 4)
    for _ in range(3):
        np.testing.assert_allclose(fused.train_on_batch(x, y), unfused.train_on_batch(x, y), rtol=1e-10)
    assert_same(fused.predict(x, verbose=0)[None], unfused.predict(x, verbose=0)[None], "prediction")


def test_add_fuses_with_a_plain_relu_only():
    assert fuses_relu(L.Add(), L.ReLU()) and fuses_relu(L.Add(), L.Activation("relu"))
    assert not fuses_relu(L.Add(activity_regularizer="l2"), L.ReLU())
    assert not fuses_relu(L.Add(), L.ReLU(max_value=6.0))
    assert not fuses_relu(L.Subtract(), L.ReLU()) and not fuses_relu(L.Concatenate(), L.ReLU())


def test_add_relu_op_gradients_and_broadcast_fallback():
    rng = np.random.default_rng(2)
    dc.grad_check(dc.ops.add_relu, [rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 5))])
    dc.grad_check(dc.ops.add_relu, [rng.standard_normal((3, 4, 5)), rng.standard_normal((5,))])  # relu(add)
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(dc.ops.add_relu(a, b).numpy(), np.maximum(a + b, 0))
