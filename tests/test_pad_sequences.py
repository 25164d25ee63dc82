"""dc.utils.pad_sequences (also dc.preprocessing.sequence.pad_sequences) and dc.utils.normalize, against
results worked out by hand from Keras' documented behaviour."""
import numpy as np
import pytest

import deepcore as dc
from deepcore.autograd import Tensor


def test_pad_sequences_padding_truncating_and_defaults():
    seqs = [[1, 2, 3, 4], [5, 6], [], [7]]
    np.testing.assert_array_equal(dc.utils.pad_sequences(seqs), [[1, 2, 3, 4], [0, 0, 5, 6], [0, 0, 0, 0],
                                                                  [0, 0, 0, 7]])
    np.testing.assert_array_equal(dc.utils.pad_sequences(seqs, maxlen=3, padding="post", truncating="post"),
                                  [[1, 2, 3], [5, 6, 0], [0, 0, 0], [7, 0, 0]])
    np.testing.assert_array_equal(dc.utils.pad_sequences(seqs, maxlen=3), [[2, 3, 4], [0, 5, 6], [0, 0, 0],
                                                                           [0, 0, 7]])
    out = dc.preprocessing.sequence.pad_sequences([[0.5, 1.5]], maxlen=3, dtype="float32", value=-1.0)
    assert out.dtype == np.float32 and out.tolist() == [[-1.0, 0.5, 1.5]]
    assert dc.utils.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    assert dc.utils.pad_sequences([]).shape == (0, 0)


def test_pad_sequences_of_vectors_and_strings():
    seqs = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    out = dc.utils.pad_sequences(seqs, dtype="float32")
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[1], [[0, 0, 0], [2, 2, 2]])
    words = dc.utils.pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "b"], ["<pad>", "c"]]


@pytest.mark.parametrize("call, message", [
    (lambda: dc.utils.pad_sequences([1, 2]), "non-iterable"),
    (lambda: dc.utils.pad_sequences([[1]], padding="middle"), "padding and truncating"),
    (lambda: dc.utils.pad_sequences([[1]], maxlen=-1), "maxlen"),
    (lambda: dc.utils.pad_sequences([["a"]], value="x"), "dtype=object"),
    (lambda: dc.utils.pad_sequences([np.ones((2, 3)), np.ones((1, 2))], dtype="float32"), "elements of shape"),
])
def test_pad_sequences_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(dc.utils.normalize(x), [[0.6, 0.8], [0, 0], [2 ** -0.5, 2 ** -0.5]])
    np.testing.assert_allclose(dc.utils.normalize(x, axis=0, order=1), x / np.array([4.0, 5.0]))
    t = dc.utils.normalize(Tensor(x), axis=-1)
    assert isinstance(t, Tensor)
    np.testing.assert_allclose(t.numpy()[0], [0.6, 0.8])
