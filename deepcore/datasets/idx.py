"""The IDX file format of MNIST-style datasets, and where deepcore looks for dataset files.

IDX (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code, the
number of dimensions, then each dimension as a big-endian int32, then the
data in C order, big-endian. Files may be gzip-compressed or raw.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


def cache_directory(name: str) -> Path:
    """``$DEEPCORE_DATA/<name>``, by default ``~/.deepcore/datasets/<name>``."""
    root = os.environ.get("DEEPCORE_DATA") or Path.home() / ".deepcore" / "datasets"
    return Path(root).expanduser() / name


def read_idx(path) -> np.ndarray:
    """Read one IDX file (gzip or raw) into a native-endian array, validating its header and length."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"{path}: not a valid gzip file ({error})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise ValueError(f"{path}: bad IDX magic number {raw[:4].hex() or '(empty file)'}, "
                         f"expected 0000 followed by a type code in "
                         f"{sorted(hex(code) for code in _DTYPES)} and the rank")
    dtype, rank = np.dtype(_DTYPES[raw[2]]), raw[3]
    header_size = 4 + 4 * rank
    if len(raw) < header_size:
        raise ValueError(f"{path}: IDX header declares {rank} dimensions but the file ends "
                         f"after {len(raw)} bytes")
    shape = tuple(int(size) for size in np.frombuffer(raw, ">u4", count=rank, offset=4))
    expected = header_size + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX header declares shape {shape} of {dtype.name} "
                         f"({expected} bytes with header), but the file has {len(raw)} bytes")
    data = np.frombuffer(raw, dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def find_idx(directory: Path, stem: str) -> Path | None:
    """``directory/stem.gz`` or ``directory/stem``, whichever exists (gzip preferred)."""
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def load_image_classification(directory: Path, stems: dict, image_shape: tuple) -> tuple | None:
    """Keras-shaped ``(x_train, y_train), (x_test, y_test)`` from the four IDX files named in
    ``stems`` (keys x_train, y_train, x_test, y_test), or None when none of them exists."""
    found = {key: find_idx(directory, stem) for key, stem in stems.items()}
    if all(path is None for path in found.values()):
        return None
    missing = [stems[key] for key, path in found.items() if path is None]
    if missing:
        raise FileNotFoundError(f"{directory}: found some IDX files but not {missing} "
                                f"(each may be gzip-compressed, with a .gz suffix)")
    arrays = {}
    for key, path in found.items():
        array = read_idx(path)
        is_images = key.startswith("x")
        if array.dtype != np.uint8 or (array.shape[1:] != image_shape if is_images else array.ndim != 1):
            expected = f"images (N, {', '.join(map(str, image_shape))})" if is_images else "labels (N,)"
            raise ValueError(f"{path}: expected uint8 {expected}, got {array.dtype} of shape {array.shape}")
        arrays[key] = array
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(images) != len(labels):
            raise ValueError(f"{directory}: {split} split has {len(images)} images "
                             f"({found[f'x_{split}'].name}) but {len(labels)} labels "
                             f"({found[f'y_{split}'].name})")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
