"""deepcore.utils: seeding, one-hot labels, training-curve plots."""
import sys

import numpy as np
import pytest

from deepcore import utils
from deepcore.backend import random


def test_set_random_seed_makes_draws_repeatable():
    utils.set_random_seed(7)
    first = random.generator().standard_normal(5)
    utils.set_random_seed(7)
    np.testing.assert_array_equal(random.generator().standard_normal(5), first)
    with pytest.raises(TypeError, match="int seed"):
        utils.set_random_seed(1.5)


@pytest.mark.parametrize("labels,num_classes,expected", [
    ([0, 2, 1], None, [[1, 0, 0], [0, 0, 1], [0, 1, 0]]),
    ([[1], [0]], None, [[0, 1], [1, 0]]),              # trailing axis of 1 is dropped, as Keras
    ([1, 0], 4, [[0, 1, 0, 0], [1, 0, 0, 0]]),
    (np.array([2.0, 0.0]), 3, [[0, 0, 1], [1, 0, 0]]),  # integral floats are accepted, as Keras
])
def test_to_categorical(labels, num_classes, expected):
    got = utils.to_categorical(labels, num_classes)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array(expected, np.float32))


def test_to_categorical_keeps_leading_axes():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    got = utils.to_categorical(labels)
    assert got.shape == (2, 3, 3)
    np.testing.assert_array_equal(got.argmax(-1), labels)


@pytest.mark.parametrize("labels,num_classes,error,match", [
    ([0, 3], 3, ValueError, r"labels in \[0, 2\], got values in \[0, 3\]"),
    ([-1, 0], None, ValueError, r"labels in \[0, 0\], got values in \[-1, 0\]"),
    ([0.5, 1.0], None, ValueError, "non-integer values"),
    (["a", "b"], None, TypeError, "integer class labels"),
    ([], None, ValueError, "pass num_classes"),
    ([0, 1], 0, ValueError, "num_classes a positive int"),
])
def test_to_categorical_rejects_bad_input(labels, num_classes, error, match):
    with pytest.raises(error, match=match):
        utils.to_categorical(labels, num_classes)


class FakeHistory:
    def __init__(self, history):
        self.history = history


def png_size(path):
    """(width, height) from the PNG IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_plot_history_writes_one_panel_per_quantity(tmp_path):
    pytest.importorskip("matplotlib")
    full = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.4],
            "accuracy": [0.5, 0.7, 0.9], "val_accuracy": [0.4, 0.6, 0.8]}
    two = utils.plot_history(FakeHistory(full), tmp_path / "two.png")
    one = utils.plot_history({"loss": [1.0, 0.5]}, tmp_path / "one.png")
    (two_width, two_height), (one_width, one_height) = png_size(two), png_size(one)
    assert two_height == one_height and two_width == 2 * one_width
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.png", "two.png"]  # no temp files left


def test_plot_history_replaces_existing_file(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "curve.png"
    target.write_bytes(b"old")
    utils.plot_history({"loss": [1.0]}, target)
    assert target.read_bytes()[:4] == b"\x89PNG"


def test_plot_history_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="History or a dict"):
        utils.plot_history([1.0, 0.5], tmp_path / "x.png")
    with pytest.raises(ValueError, match="non-empty per-epoch lists"):
        utils.plot_history({"loss": []}, tmp_path / "x.png")
    assert not list(tmp_path.iterdir())


def test_plot_history_without_matplotlib_suggests_extra(tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name.split(".")[0] == "matplotlib"] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # None makes `import` raise ImportError
    with pytest.raises(ImportError, match=r"pip install deepcore\[plot\]"):
        utils.plot_history({"loss": [1.0]}, tmp_path / "x.png")
