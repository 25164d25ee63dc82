"""Devices: which array module (NumPy or CuPy) new arrays live on.

The current device is, in order: the innermost ``with dc.device(...)`` block,
the last ``dc.set_device(...)``, the ``DEEPCORE_DEVICE`` environment variable,
and finally the GPU if a real probe (allocate + launch a kernel) succeeds,
else the CPU. A missing or broken CUDA stack never breaks ``import deepcore``.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading

import numpy as np

DEVICE_NAMES = ("cpu", "gpu")


class Device:
    """A place where arrays live: ``Device("cpu")`` (NumPy) or ``Device("gpu")`` (CuPy)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        name = _normalize_name(name)
        self.name = name

    @property
    def xp(self):
        """The array module of this device: ``numpy`` or ``cupy``."""
        if self.name == "cpu":
            return np
        ok, reason = gpu_probe()
        if not ok:
            raise RuntimeError(f"GPU requested but not usable: {reason}")
        import cupy

        return cupy

    def __eq__(self, other):
        return isinstance(other, Device) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"Device('{self.name}')"


def _normalize_name(name) -> str:
    if isinstance(name, Device):
        return name.name
    if not isinstance(name, str):
        raise TypeError(f"device: expected 'cpu' or 'gpu', got {type(name).__name__} {name!r}")
    lowered = name.strip().lower()
    if lowered in ("cuda", "gpu") or lowered.startswith("cuda:") or lowered.startswith("gpu:"):
        return "gpu"
    if lowered == "cpu":
        return "cpu"
    raise ValueError(f"device: expected 'cpu' or 'gpu', got {name!r}")


@functools.lru_cache(maxsize=1)
def gpu_probe() -> tuple[bool, str]:
    """Return ``(usable, reason)``: can CuPy allocate memory and run a kernel here?

    Runs once per process; importing cupy, allocating and launching an
    elementwise kernel must all succeed for the GPU to count.
    """
    try:
        import cupy
    except Exception as error:  # ImportError, or a broken CUDA library raising anything
        return False, f"cupy is not importable ({type(error).__name__}: {error})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count < 1:
            return False, "CUDA runtime reports no devices"
        probe = cupy.arange(8, dtype=cupy.float32)
        total = float((probe * 2).sum())
        cupy.cuda.Device().synchronize()
        if total != 56.0:
            return False, f"probe kernel returned {total}, expected 56.0"
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        return True, f"{count} device(s), device 0 is {name}"
    except Exception as error:
        return False, f"{type(error).__name__}: {error}"


_state = threading.local()
_default_name: str | None = None


def _stack() -> list:
    if not hasattr(_state, "stack"):
        _state.stack = []
    return _state.stack


def _resolve_default() -> str:
    env = os.environ.get("DEEPCORE_DEVICE")
    if env:
        return _normalize_name(env)
    return "gpu" if gpu_probe()[0] else "cpu"


def get_device() -> Device:
    """The device new arrays are created on."""
    global _default_name
    stack = _stack()
    if stack:
        return stack[-1]
    if _default_name is None:
        _default_name = _resolve_default()
    return Device(_default_name)


def set_device(name) -> Device:
    """Make ``name`` ('cpu' or 'gpu') the default device; raises if the GPU is not usable."""
    global _default_name
    chosen = Device(name)
    chosen.xp  # fail now, not at the first op
    _default_name = chosen.name
    return chosen


@contextlib.contextmanager
def device(name):
    """``with dc.device('cpu'):`` creates arrays (and builds models) on that device."""
    chosen = Device(name)
    chosen.xp
    _stack().append(chosen)
    try:
        yield chosen
    finally:
        _stack().pop()


def get_array_module(*arrays):
    """``numpy`` or ``cupy``, whichever the arrays live in (NumPy for plain Python values)."""
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        for array in arrays:
            array = getattr(array, "data", array) if hasattr(array, "_creator") else array
            if isinstance(array, cupy.ndarray):
                return cupy
    return np


def device_of(array) -> Device:
    return Device("gpu" if get_array_module(array) is not np else "cpu")


def to_device(array, target=None):
    """Copy an array to ``target`` (default: the current device); no copy if already there."""
    target = get_device() if target is None else Device(target)
    xp = get_array_module(array)
    if target.name == "cpu":
        return array.get() if xp is not np else np.asarray(array)
    return target.xp.asarray(array)
