"""The CIFAR binary format (https://www.cs.toronto.edu/~kriz/cifar.html), shared by CIFAR-10 and -100.

Each record is the label byte(s) followed by a 32x32 colour image as 3072
bytes: the 1024 red values, then green, then blue, each plane row-major.
Files are read from a directory holding them, from the folder the official
archive extracts to, or from the archive itself (read in place, never
extracted). The pickled "python version" is refused: deepcore never unpickles.
"""
from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

IMAGE_BYTES = 32 * 32 * 3


class BinaryDistribution:
    """Where one CIFAR binary distribution's files live inside ``$DEEPCORE_DATA/<name>/``."""

    def __init__(self, name, archive, folder, python_names):
        self.name, self.archive, self.folder, self.python_names = name, archive, folder, python_names

    def read(self, directory: Path, file_names) -> dict:
        """{file name: bytes} for each of ``file_names``, or a FileNotFoundError saying where to put them."""
        for place in (directory, directory / self.folder):
            found = [place / name for name in file_names if (place / name).is_file()]
            if len(found) == len(file_names):
                return {path.name: path.read_bytes() for path in found}
            if found:
                missing = sorted(set(file_names) - {path.name for path in found})
                raise FileNotFoundError(f"{place}: found some {self.name} binary files but not {missing}")
        archive = directory / self.archive
        if archive.is_file():
            return self._read_archive(archive, file_names)
        raise FileNotFoundError(self._where_to_put_files(directory))

    def _read_archive(self, archive: Path, file_names) -> dict:
        wanted = {f"{self.folder}/{name}": name for name in file_names}
        contents = {}
        try:
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:
                    name = member.name.removeprefix("./")
                    if name in wanted and member.isfile():
                        contents[wanted[name]] = tar.extractfile(member).read()
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ValueError(f"{archive}: not a readable tar archive ({error})") from None
        missing = sorted(set(file_names) - set(contents))
        if missing:
            raise ValueError(f"{archive}: the archive lacks {[f'{self.folder}/{name}' for name in missing]}")
        return contents

    def _where_to_put_files(self, directory: Path) -> str:
        message = (f"{self.name} binary files not found in {directory}: put the binary version's archive "
                   f"{self.archive} there (from https://www.cs.toronto.edu/~kriz/cifar.html), or the "
                   f"{self.folder}/ folder it extracts to (or set DEEPCORE_DATA to a folder holding a "
                   f"{directory.name}/ subfolder); deepcore never downloads.")
        if any((directory / name).exists() for name in self.python_names):
            message += (f" The files there are the pickled Python version, which deepcore does not read "
                        f"(loading never unpickles); use the binary version {self.archive}.")
        return message


def parse_records(raw: bytes, label_bytes: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 channels_last and labels (N, label_bytes) uint8 from one binary file."""
    record_bytes = label_bytes + IMAGE_BYTES
    if not raw or len(raw) % record_bytes:
        raise ValueError(f"{source}: {len(raw)} bytes is not a whole number of {record_bytes}-byte CIFAR "
                         f"records ({label_bytes} label byte(s) + {IMAGE_BYTES} image bytes)")
    records = np.frombuffer(raw, np.uint8).reshape(-1, record_bytes)
    # (N, channel, row, column) planes -> (N, row, column, channel)
    images = records[:, label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), records[:, :label_bytes].copy()


def check_labels(labels: np.ndarray, classes: int, what: str, source: str) -> None:
    if labels.size and labels.max() >= classes:
        raise ValueError(f"{source}: {what} labels must be in [0, {classes - 1}], found {labels.max()}")
