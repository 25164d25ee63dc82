"""The three Keras-guide scripts run unchanged (but for ``import deepcore as keras``) and learn."""
import pathlib
import runpy

import pytest

HERE = pathlib.Path(__file__).parent


def run(name):
    return runpy.run_path(str(HERE / name), run_name="__main__")


def test_custom_linear_layer_trained_by_fit():
    result = run("custom_linear_layer.py")
    assert result["final_loss"] < 1e-3
    assert result["learned_w"].ravel() == pytest.approx([1.5, -2.0, 0.5, 3.0], abs=0.02)
    assert result["learned_b"] == pytest.approx([0.7], abs=0.02)


def test_subclassed_model_with_custom_train_step():
    result = run("custom_train_step.py")
    assert result["first"].history["loss"][-1] < result["first"].history["loss"][0]
    assert result["own"].history["mae"][-1] < result["own"].history["mae"][0]
    assert set(result["evaluation"]) == {"loss", "mae"}


def test_transformer_classifier_with_padding_masks():
    result = run("transformer_classifier.py")
    assert result["val_accuracy"] > 0.9
    assert result["padding_gap"] < 1e-5
