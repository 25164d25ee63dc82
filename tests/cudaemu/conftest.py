"""Builds every emulation library the collected tests need in parallel before the first test
(cached by source hash: a rerun with unchanged sources builds nothing), and stops the worker
processes at the end of the session."""
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from cudaemu_harness import close_modules, kernel_source
from deepcore.backend import cuda_emulation


def _build(key):
    family, mode = key
    try:
        cuda_emulation.build_library(kernel_source(family), mode)
    except cuda_emulation.CudaEmulationError:
        pass  # reported by each test of that file, not as an error of every test


@pytest.fixture(scope="session", autouse=True)
def _emulation_libraries(request):
    wanted = set()
    for item in request.session.items:
        family, mode = getattr(item.module, "FAMILY", None), getattr(item, "callspec", None)
        mode = mode.params.get("mode") if mode else None
        if family and mode in cuda_emulation.MODES:
            wanted.add((family, mode))
    if wanted and shutil.which(cuda_emulation.compiler()):
        with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            list(pool.map(_build, sorted(wanted)))
    yield
    close_modules()
