"""Atomic file writes: a crash mid-write never leaves a half-written file in place."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path, write) -> Path:
    """Call ``write(temporary_path)``, then rename the temporary file onto ``path``.

    The temporary file lives in the target's folder (so the rename is atomic)
    and is removed if ``write`` raises; an existing ``path`` stays untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
