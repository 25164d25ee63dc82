"""Loading and launching ``kernels/*.cu``: NVRTC through ``cupy.RawModule``, once per process.

Where the sources are, first match wins:

1. ``$DEEPCORE_KERNELS_DIR`` (a folder holding the ``.cu`` files);
2. ``deepcore/_kernels/`` inside the installed package (a wheel ships the
   top-level ``kernels/`` there as package data);
3. ``kernels/`` beside the ``deepcore`` package: a source checkout or an
   editable install.

A file that does not compile is reported once, with the NVRTC log, the options
and the target architecture, as a ``RuntimeWarning`` naming its kernels; the
wrappers (``cuda_kernel`` below, used by ``cuda_kernels`` and ``cuda_optim``)
then run the reference instead. Importing this
module never needs CuPy: it is imported inside the functions that launch.
"""
from __future__ import annotations

import functools
import logging
import math
import os
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger("deepcore.kernels")

# Every extern "C" __global__ function of each kernels/<family>.cu; tests/backend/test_nvrtc.py
# checks this against the sources, so a kernel cannot be added without being wired in here.
CUDA_FUNCTIONS = {
    "conv": ("im2col_nhwc", "col2im_nhwc"),
    "pooling": ("maxpool2d_forward_nhwc", "maxpool2d_backward_nhwc", "avgpool2d_forward_nhwc",
                "avgpool2d_backward_nhwc"),
    "batchnorm": ("batchnorm_partial_moments", "batchnorm_finalize_moments", "batchnorm_normalize",
                  "batchnorm_forward_infer_nhwc", "batchnorm_backward_partial_sums", "batchnorm_backward_finalize",
                  "batchnorm_backward_data"),
    "activation": ("bias_relu_forward_nhwc", "relu_backward_flat"),
    "softmax": ("softmax_forward_rows", "softmax_cross_entropy_forward_rows", "softmax_cross_entropy_backward_rows"),
    "optim": ("sgd_momentum_update_multi", "adam_update_multi"),
}

COMPILE_OPTIONS = ("-std=c++17",)
THREADS = 256  # threads per block of the 1-D kernels (a multiple of the warp size, 32)
WARP_SIZE = 32
BLOCKS_PER_SM = 32  # grid cap for the grid-stride kernels: enough waves to hide latency
# The kernels index with int32 and step by at most BLOCKS_PER_SM * THREADS * (number of SMs) < 2^24,
# so every buffer must stay below this many elements.
INDEX_LIMIT = 2**31 - 2**24


def kernels_dir() -> Path:
    """The folder holding ``conv.cu`` and the other kernel sources (see the module docstring)."""
    here = Path(__file__).resolve()
    candidates = [Path(os.environ["DEEPCORE_KERNELS_DIR"])] if os.environ.get("DEEPCORE_KERNELS_DIR") else []
    candidates += [here.parents[1] / "_kernels", here.parents[2] / "kernels"]
    for folder in candidates:
        if (folder / "conv.cu").is_file():
            return folder
    raise FileNotFoundError("deepcore: CUDA kernel sources not found; looked for conv.cu in "
                            + ", ".join(str(folder) for folder in candidates))


def _architecture() -> str:
    import cupy
    try:
        return f"sm_{cupy.cuda.Device().compute_capability}"
    except Exception as error:  # a broken driver still deserves the compile message
        return f"unknown ({type(error).__name__}: {error})"


@functools.lru_cache(maxsize=None)
def load_module(family: str):
    """The compiled ``kernels/<family>.cu`` as a ``cupy.RawModule``, or None if it does not compile."""
    import cupy
    path = kernels_dir() / f"{family}.cu"
    try:
        module = cupy.RawModule(code=path.read_text(), options=COMPILE_OPTIONS)
        module.compile()  # RawModule compiles lazily; surface NVRTC errors here, once
        return module
    except Exception as error:  # cupy.cuda.compiler.CompileException, or a driver/loader error
        message = (f"deepcore: {path} did not compile for {_architecture()} with NVRTC options "
                   f"{' '.join(COMPILE_OPTIONS)}; its kernels ({', '.join(CUDA_FUNCTIONS[family])}) "
                   f"fall back to the reference implementation.\n{type(error).__name__}: {error}")
        log.error(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        return None


@functools.lru_cache(maxsize=None)
def kernel_function(family: str, name: str):
    assert name in CUDA_FUNCTIONS[family], f"{name} is not registered for {family}.cu"
    return load_module(family).get_function(name)


@functools.lru_cache(maxsize=None)
def _multiprocessors(device_id: int) -> int:
    import cupy
    return int(cupy.cuda.Device(device_id).attributes["MultiProcessorCount"])


def grid_size(threads_needed: int, threads_per_block: int = THREADS) -> int:
    """Blocks for a grid-stride kernel: one thread per item, capped at BLOCKS_PER_SM per SM."""
    import cupy
    cap = BLOCKS_PER_SM * _multiprocessors(cupy.cuda.Device().id)
    return max(1, min(math.ceil(threads_needed / threads_per_block), cap))


def launch(family: str, name: str, items: int, args: tuple, *, per_warp: bool = False):
    """Run a 1-D grid-stride kernel over ``items`` (elements, or rows with one warp each when ``per_warp``)."""
    threads_needed = items * WARP_SIZE if per_warp else items
    kernel_function(family, name)((grid_size(threads_needed),), (THREADS,), args)


def check_index_range(kernel: str, *sizes: int):
    """A clear error instead of an int32 overflow inside a kernel."""
    largest = max(sizes)
    if largest >= INDEX_LIMIT:
        raise ValueError(f"{kernel}: a buffer of {largest} elements exceeds the CUDA kernels' int32 indexing "
                         f"limit ({INDEX_LIMIT}); split the batch into smaller ones")


def ints(*values) -> tuple:
    """Kernel arguments declared ``int``: CuPy passes numpy scalars with their exact width."""
    return tuple(np.int32(value) for value in values)


def device_pointer(array) -> int:
    return array.data.ptr


# ---------------------------------------------------------------------------------------------- wrappers

def fallback_reason(family, arrays):
    """Why this call must run the reference (None when the CUDA kernel can run)."""
    import cupy
    if not all(isinstance(a, cupy.ndarray) for a in arrays):
        return "an input is not a CuPy array"
    if any(a.dtype.kind == "f" and a.dtype != np.float32 for a in arrays):
        return "not float32"
    if any(a.size == 0 for a in arrays):
        return "empty input"
    if load_module(family) is None:
        return f"kernels/{family}.cu did not compile"
    return None


def cuda_kernel(family, reference_function, supported=lambda *args: True):
    """Run the CUDA wrapper, or ``reference_function`` when ``fallback_reason`` or ``supported`` says so."""
    def decorate(wrapper):
        @functools.wraps(wrapper)
        def run(*args, **kwargs):
            arrays = [a for a in args if hasattr(a, "dtype") and hasattr(a, "shape")]
            reason = fallback_reason(family, arrays) or (None if supported(*args) else "layout not covered")
            if reason:
                log.debug("%s -> reference (%s)", wrapper.__name__, reason)
                return reference_function(*args, **kwargs)
            return wrapper(*args, **kwargs)
        run.reference = reference_function
        return run
    return decorate


def contiguous(*arrays):
    import cupy
    return tuple(cupy.ascontiguousarray(a) for a in arrays)


def empty(shape, dtype=np.float32):
    import cupy
    return cupy.empty(shape, dtype=dtype)
