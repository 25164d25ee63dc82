"""One harness for the kernel tests of tests/cudaemu: a test body runs each CUDA kernel of
``kernels/*.cu`` emulated on the CPU (modes ``plain``, ``asan``, ``tsan``) or, on a
machine with a GPU, through CuPy (mode ``gpu``), and compares with the NumPy reference.

The glue in the tests launches kernels as ``deepcore/backend/cuda_kernels.py`` does:
``launch_1d`` is ``cuda_modules.launch`` (blocks of ``cuda_modules.THREADS``, one thread
or one warp per item) except that the grid is capped at ``GRID_CAP`` blocks, so that
every grid-stride loop wraps around and more than one block runs.
"""
from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from deepcore.backend import cuda_emulation

GRID_CAP = 3
SANITIZED_CASES = 2  # the sanitizers run the first cases of each list: they are 5-20x slower
INT_SENTINEL = -(2**31) + 7  # what an int output holds before the kernel writes it

_modules: dict[tuple[str, str], object] = {}


def mode_cases(cases, ids=str):
    """``(mode, case)`` parameters: every case emulated (``plain``) and on a GPU (``gpu``,
    skipped without one), the first ``SANITIZED_CASES`` under ASan and TSan."""
    params = []
    for mode in ("plain", "asan", "tsan", "gpu"):
        marks = [pytest.mark.gpu] if mode == "gpu" else []
        chosen = cases[:SANITIZED_CASES] if mode in ("asan", "tsan") else cases
        params += [pytest.param(mode, case, id=f"{mode}-{ids(case)}", marks=marks) for case in chosen]
    return params


def kernel_source(family: str):
    """``kernels/<family>.cu``, where the GPU backend finds it."""
    from deepcore.backend.cuda_modules import kernels_dir
    return kernels_dir() / f"{family}.cu"


def ints(*values):
    """Kernel arguments declared ``int`` (as ``cuda_modules.ints``)."""
    return tuple(np.int32(value) for value in values)


def module(family: str, mode: str):
    """``kernels/<family>.cu`` loaded for ``mode``, once per test session."""
    key = (family, mode)
    if key not in _modules:
        path = kernel_source(family)
        if mode == "gpu":
            from deepcore.backend.cuda_modules import load_module
            _modules[key] = _CupyModule(load_module(family), cuda_emulation.parse_kernels(path.read_text()))
        else:
            if shutil.which(cuda_emulation.compiler()) is None:
                pytest.skip(f"no C++ compiler ({cuda_emulation.compiler()}) to emulate CUDA kernels")
            _modules[key] = cuda_emulation.EmulatedModule(path, mode)
    return _modules[key]


def close_modules():
    for loaded in _modules.values():
        loaded.close()
    _modules.clear()


class Kernels:
    """Launches the kernels of one mode; arrays are NumPy, written in place."""

    def __init__(self, mode: str):
        self.mode = mode

    def launch(self, family, name, grid, block, args):
        module(family, self.mode).get_function(name)(grid, block, args)

    def launch_1d(self, family, name, items, args, *, per_warp=False):
        from deepcore.backend.cuda_modules import THREADS, WARP_SIZE
        threads_needed = items * WARP_SIZE if per_warp else items
        grid = max(1, min(math.ceil(threads_needed / THREADS), GRID_CAP))
        self.launch(family, name, (grid,), (THREADS,), args)


class _CupyModule:
    """The same calls on a GPU: NumPy arguments copied to the device and the written ones back."""

    def __init__(self, raw_module, signatures):
        self.raw_module, self.signatures = raw_module, signatures

    def get_function(self, name):
        import cupy
        function, signature = self.raw_module.get_function(name), self.signatures[name]

        def call(grid, block, args):
            on_device, keep = [], []
            for parameter, arg in zip(signature.parameters, args):
                if parameter.indirection == 2:
                    tensors = [cupy.asarray(a) for a in arg]
                    keep.append(tensors)
                    on_device.append(cupy.asarray(np.array([t.data.ptr for t in tensors], np.uint64)))
                else:
                    on_device.append(cupy.asarray(arg) if isinstance(arg, np.ndarray) else arg)
            function(tuple(grid), tuple(block), tuple(on_device))
            tables = iter(keep)
            for parameter, arg, device in zip(signature.parameters, args, on_device):
                if parameter.indirection == 2:
                    for host, tensor in zip(arg, next(tables)):
                        if not parameter.const:
                            host[...] = tensor.get()
                elif parameter.indirection == 1 and not parameter.const:
                    arg[...] = device.get()
        return call

    def close(self):
        pass


def empty(shape, dtype=np.float32):
    """An output buffer as uninitialized device memory might hold it: NaN (or a sentinel int),
    so that an element the kernel forgets to write fails the comparison."""
    dtype = np.dtype(dtype)
    return np.full(shape, np.nan if dtype.kind == "f" else INT_SENTINEL, dtype)


def normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def assert_parity(kernel, got, expected, rtol=1e-6, atol=1e-6):
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{kernel}: shape {got.shape}, reference {expected.shape}"
    unexpected_nan = np.isnan(got) & ~np.isnan(expected) if got.dtype.kind == "f" else np.zeros(got.shape, bool)
    hint = ""
    if unexpected_nan.any():
        hint = (f" {int(unexpected_nan.sum())} NaN where the reference has none, first at "
                f"{tuple(int(i) for i in np.argwhere(unexpected_nan)[0])}: an element the kernel never wrote, "
                "or a read of __shared__ memory that no thread wrote (the emulator fills it with NaN).")
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=f"{kernel} vs reference.{hint}")

