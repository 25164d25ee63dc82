"""CIFAR-10/-100 binary format: small files written here from the format description, in a
folder, in the archive's folder and inside the archive; clear errors for missing or bad files."""
import io
import tarfile

import numpy as np
import pytest

from deepcore.datasets import cifar10, cifar100


def records(images, *label_columns):
    """CIFAR binary records: label byte(s), then the red, green and blue 32x32 planes row by row."""
    out = bytearray()
    for i, image in enumerate(images):
        out += bytes(int(column[i]) for column in label_columns)
        for channel in range(3):
            out += image[:, :, channel].tobytes()
    return bytes(out)


def cifar10_files(counts=(2, 3, 1, 2, 2, 3), seed=0):
    """{file name: bytes} for the five train batches and the test batch, and the arrays they hold."""
    rng = np.random.default_rng(seed)
    names = cifar10.TRAIN_FILES + [cifar10.TEST_FILE]
    files, images, labels = {}, {}, {}
    for name, count in zip(names, counts):
        images[name] = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        labels[name] = rng.integers(0, 10, count)
        files[name] = records(images[name], labels[name])
    expected_train = (np.concatenate([images[n] for n in cifar10.TRAIN_FILES]),
                      np.concatenate([labels[n] for n in cifar10.TRAIN_FILES]))
    return files, expected_train, (images[cifar10.TEST_FILE], labels[cifar10.TEST_FILE])


def write(directory, files):
    directory.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        (directory / name).write_bytes(raw)


def write_archive(path, folder, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, raw in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))


def check_split(got, expected_images, expected_labels):
    images, labels = got
    assert images.dtype == np.uint8 and images.shape == expected_images.shape
    assert labels.dtype == np.uint8 and labels.shape == (len(expected_labels), 1)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels[:, 0], expected_labels)


@pytest.mark.parametrize("layout", ["files", "folder", "archive"])
def test_cifar10_reads_every_layout(tmp_path, monkeypatch, layout):
    monkeypatch.setenv("DEEPCORE_DATA", str(tmp_path))
    files, train, test = cifar10_files()
    directory = tmp_path / "cifar10"
    if layout == "files":
        write(directory, files)
    elif layout == "folder":
        write(directory / "cifar-10-batches-bin", files)
    else:
        directory.mkdir()
        write_archive(directory / "cifar-10-binary.tar.gz", "cifar-10-batches-bin", files)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    check_split((x_train, y_train), *train)
    check_split((x_test, y_test), *test)


def test_cifar10_pixel_layout_is_rgb_planes_to_channels_last(tmp_path):
    image = np.zeros((1, 32, 32, 3), np.uint8)
    image[0, 1, 2] = (10, 20, 30)  # row 1, column 2: R, G, B
    raw = bytearray([7]) + bytearray(3072)
    for channel, value in enumerate((10, 20, 30)):
        raw[1 + channel * 1024 + 1 * 32 + 2] = value
    files = {name: bytes(raw) for name in cifar10.TRAIN_FILES + [cifar10.TEST_FILE]}
    write(tmp_path, files)
    (x_train, y_train), _ = cifar10.load_data(tmp_path)
    np.testing.assert_array_equal(x_train[0], image[0])
    assert y_train[0, 0] == 7


def test_cifar10_missing_files_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCORE_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"cifar10.*cifar-10-binary\.tar\.gz.*never downloads"):
        cifar10.load_data()
    (tmp_path / "cifar10" / "cifar-10-batches-py").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="pickled Python version"):
        cifar10.load_data()


def test_cifar10_partial_or_bad_files_raise_naming_the_file(tmp_path):
    files, _, _ = cifar10_files()
    write(tmp_path, files)
    (tmp_path / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin"):
        cifar10.load_data(tmp_path)
    write(tmp_path, files)
    (tmp_path / "test_batch.bin").write_bytes(files["test_batch.bin"][:-1])
    with pytest.raises(ValueError, match=r"test_batch\.bin.*3073-byte"):
        cifar10.load_data(tmp_path)
    (tmp_path / "test_batch.bin").write_bytes(bytes([10]) + bytes(3072))
    with pytest.raises(ValueError, match=r"test_batch\.bin.*\[0, 9\]"):
        cifar10.load_data(tmp_path)


def test_cifar10_archive_without_the_files_raises(tmp_path):
    write_archive(tmp_path / "cifar-10-binary.tar.gz", "cifar-10-batches-bin", {"readme.html": b"x"})
    with pytest.raises(ValueError, match="lacks"):
        cifar10.load_data(tmp_path)
    (tmp_path / "cifar-10-binary.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        cifar10.load_data(tmp_path)


def cifar100_files(seed=1):
    rng = np.random.default_rng(seed)
    files, expected = {}, {}
    for name, count in (("train.bin", 5), ("test.bin", 3)):
        images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
        coarse, fine = rng.integers(0, 20, count), rng.integers(0, 100, count)
        files[name] = records(images, coarse, fine)
        expected[name] = images, coarse, fine
    return files, expected


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
@pytest.mark.parametrize("layout", ["folder", "archive"])
def test_cifar100_reads_fine_and_coarse_labels(tmp_path, monkeypatch, label_mode, layout):
    monkeypatch.setenv("DEEPCORE_DATA", str(tmp_path))
    files, expected = cifar100_files()
    directory = tmp_path / "cifar100"
    if layout == "folder":
        write(directory / "cifar-100-binary", files)
    else:
        directory.mkdir()
        write_archive(directory / "cifar-100-binary.tar.gz", "cifar-100-binary", files)
    train, test = cifar100.load_data(label_mode=label_mode)
    for got, name in ((train, "train.bin"), (test, "test.bin")):
        images, coarse, fine = expected[name]
        check_split(got, images, fine if label_mode == "fine" else coarse)


def test_cifar100_errors(tmp_path):
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium", path=tmp_path)
    with pytest.raises(FileNotFoundError, match="cifar-100-binary.tar.gz"):
        cifar100.load_data(path=tmp_path)
    files, _ = cifar100_files()
    files["train.bin"] = records(np.zeros((1, 32, 32, 3), np.uint8), [20], [5])  # coarse label out of range
    write(tmp_path, files)
    with pytest.raises(ValueError, match=r"train\.bin: coarse labels must be in \[0, 19\]"):
        cifar100.load_data(path=tmp_path)
