"""What a benchmark ran on: thread pinning, library versions, CPU and GPU names, git commit.

Thread pinning and its limits: OpenBLAS/MKL read ``OMP_NUM_THREADS`` and
friends once, when NumPy is first imported, and ``import deepcore`` has
already imported NumPy by the time the CLI parses ``--threads``. So
``pinned_threads`` sets the variables (for anything loaded later) *and*
resizes the already-loaded BLAS pools at run time through ``threadpoolctl``
when it is installed (torch's own pool is set by ``torch.set_num_threads``);
without it the BLAS thread count is whatever the environment said at
start-up, and the JSON records that (``blas: null``). To be sure, export
``OMP_NUM_THREADS=N`` before starting Python as well.
"""
from __future__ import annotations

import contextlib
import datetime
import importlib
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@contextlib.contextmanager
def pinned_threads(threads: int | None, torch: bool = False):
    """Use ``threads`` threads in BLAS, numba and (with ``torch=True``) PyTorch; yield what took effect.

    Everything is put back on exit, so a caller in the same process (a test,
    a notebook) keeps its own settings.
    """
    import numba

    # deepcore's CPU kernels start numba's thread pool (short spin, or workqueue when torch's OpenMP is
    # already loaded) before anything here touches numba, which would start a spinning OpenMP pool.
    from ..backend import cpu_kernels  # noqa: F401
    torch_module = _import_torch() if torch else None

    saved_environment = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    saved_numba = numba.get_num_threads()
    saved_torch = torch_module.get_num_threads() if torch_module else None
    limiter = None
    if threads is not None:
        os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        limiter = _limit_blas(threads)
        if torch_module:
            torch_module.set_num_threads(threads)
    try:
        counts = thread_counts(threads)
        if torch_module:
            counts["torch"] = torch_module.get_num_threads()
        yield counts
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
        numba.set_num_threads(saved_numba)
        if torch_module:
            torch_module.set_num_threads(saved_torch)
        for name, value in saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _limit_blas(threads: int):
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl.threadpool_limits(limits=threads, user_api="blas")


def thread_counts(requested: int | None) -> dict:
    import numba

    counts = {"requested": requested, "numba": numba.get_num_threads(), "blas": None,
              "environment": {name: os.environ.get(name) for name in THREAD_VARIABLES}}
    try:
        import threadpoolctl
    except ImportError:
        return counts
    pools = [info for info in threadpoolctl.threadpool_info() if info.get("user_api") == "blas"]
    if pools:
        counts["blas"] = max(info["num_threads"] for info in pools)
    return counts


def numba_threading_layer() -> str | None:
    """``omp``, ``tbb`` or ``workqueue``: known only once a parallel numba kernel has run."""
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        return None


def describe(argv: list[str], threads: dict) -> dict:
    """The header of every result file: command, time, versions, machine, commit."""
    return {
        "command": shlex.join(["deepcore", "bench", *argv]),
        "argv": list(sys.argv),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "git_uncommitted": git_uncommitted(),
        "versions": versions(),
        "machine": machine(),
        "threads": threads,
    }


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in ("deepcore", "numpy", "numba", "cupy", "torch"):
        found[name] = _version_of(name)
    from ..backend import cpu_blas

    found["blas"] = cpu_blas.BLAS  # what the CPU kernels' GEMMs call
    return found


def _version_of(name: str) -> str | None:
    """Installed version, or ``None`` when the module is not importable (cupy without CUDA, say)."""
    module = sys.modules.get(name)
    if module is None and name in ("cupy", "torch"):
        try:
            module = importlib.import_module(name)
        except Exception:  # a broken CUDA install raises more than ImportError
            return None
    version = getattr(module, "__version__", None)
    if version is None:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = None
    return None if version is None else str(version)


def machine() -> dict:
    from ..backend import gpu_probe

    ok, reason = gpu_probe()
    return {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "load_average_at_start": load_average(), "gpu": gpu_name() if ok else None, "gpu_probe": reason}


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: a busy machine explains slow or noisy numbers."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def gpu_name() -> str | None:
    try:
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
    except Exception:
        return None
    return name.decode() if isinstance(name, bytes) else str(name)


def git_commit() -> str:
    """``git rev-parse HEAD`` of the checkout deepcore is imported from, else ``'unknown'``."""
    output = _git("rev-parse", "HEAD")
    return output.strip() if output and output.strip() else "unknown"


def git_uncommitted() -> list[str] | None:
    """Source files (deepcore/, kernels/) that differ from the commit: a result measured them, not it."""
    output = _git("status", "--porcelain", "--untracked-files=all", "--", ".", "../kernels")
    return None if output is None else [line[3:] for line in output.splitlines() if line.strip()]


def _git(*arguments) -> str | None:
    package = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(["git", *arguments], cwd=package, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
