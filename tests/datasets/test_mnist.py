"""IDX reading (gzip and raw), corrupt-file errors, and the bundled-subset fallback."""
import gzip
import struct
import warnings

import numpy as np
import pytest

from deepcore.datasets import fashion_mnist, mnist
from deepcore.datasets.idx import read_idx


def idx_bytes(array, type_code=0x08):
    """IDX bytes written from the format description, independently of the reader."""
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += b"".join(struct.pack(">I", size) for size in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(directory, n_train=6, n_test=4, compress=True):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for key, stem in mnist.FILES.items():
        raw = idx_bytes(arrays[key])
        if compress:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / stem).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
def test_load_data_reads_idx_files(tmp_path, monkeypatch, compress):
    monkeypatch.setenv("DEEPCORE_DATA", str(tmp_path))
    expected = write_mnist(tmp_path / "mnist", compress=compress)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for key, got in zip(["x_train", "y_train", "x_test", "y_test"], [x_train, y_train, x_test, y_test]):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected[key])


@pytest.mark.parametrize("dtype,code", [(np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D)])
def test_read_idx_converts_big_endian_types(tmp_path, dtype, code):
    array = np.arange(-3, 9, dtype=dtype).reshape(3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(array, code))
    got = read_idx(tmp_path / "a.idx")
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("corrupt", ["magic", "truncated", "extra", "bad_gzip"])
def test_corrupt_file_raises_naming_it(tmp_path, monkeypatch, corrupt):
    monkeypatch.setenv("DEEPCORE_DATA", str(tmp_path))
    write_mnist(tmp_path / "mnist", compress=False)
    target = tmp_path / "mnist" / "train-labels-idx1-ubyte"
    raw = target.read_bytes()
    broken = {"magic": b"\x08\x03" + raw[2:], "truncated": raw[:-1], "extra": raw + b"\x00",
              "bad_gzip": b"\x1f\x8b" + b"not gzip at all"}[corrupt]
    target.write_bytes(broken)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte"):
        mnist.load_data()


def test_wrong_image_size_and_count_mismatch_raise(tmp_path):
    write_mnist(tmp_path, compress=False)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 27, 28), np.uint8)))
    with pytest.raises(ValueError, match=r"expected uint8 images \(N, 28, 28\)"):
        mnist.load_data(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((5, 28, 28), np.uint8)))
    with pytest.raises(ValueError, match="test split has 5 images"):
        mnist.load_data(tmp_path)


def test_partial_file_set_is_an_error_not_a_fallback(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        mnist.load_data(tmp_path)


def test_fallback_to_bundled_subset_warns_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCORE_DATA", str(tmp_path))
    monkeypatch.setattr(mnist, "_warned", False)
    with pytest.warns(UserWarning, match="bundled subset"):
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (4000, 28, 28) and y_train.shape == (4000,)
    assert x_test.shape == (1000, 28, 28) and y_test.shape == (1000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10)) and set(np.unique(y_test)) == set(range(10))
    assert x_train.max() == 255 and x_train.min() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mnist.load_data()


def test_fashion_mnist_without_files_says_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCORE_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="fashion_mnist"):
        fashion_mnist.load_data()
    expected = write_mnist(tmp_path / "fashion_mnist")
    (x_train, _), _ = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, expected["x_train"])
