"""Every __global__ kernel of kernels/*.cu runs in an emulated parity test (tests/cudaemu/test_emulated_*.py),
under the plain, ASan and TSan modes (``mode_cases``)."""
import re
from pathlib import Path

import pytest

from cudaemu_harness import kernel_source
from deepcore.backend.cuda_emulation import parse_kernels

pytestmark = pytest.mark.cudaemu
LAUNCH = re.compile(r'\.launch(?:_1d)?\(\s*"(\w+)",\s*"(\w+)"')


def test_every_cuda_kernel_has_an_emulated_parity_test():
    directory = kernel_source("conv").parent
    kernels = {(path.stem, name) for path in sorted(directory.glob("*.cu")) for name in parse_kernels(path.read_text())}
    assert kernels, f"no __global__ kernels found in {directory}/*.cu"
    launched = set()
    for test_file in sorted(Path(__file__).parent.glob("test_emulated_*.py")):
        text = test_file.read_text()
        found = set(LAUNCH.findall(text))
        assert not found or "mode_cases(" in text, f"{test_file.name} does not run its kernels under every mode"
        launched |= found
    missing = sorted(f"{family}.cu: {name}" for family, name in kernels - launched)
    assert not missing, ("CUDA kernels without an emulated parity test (add one to "
                         f"tests/cudaemu/test_emulated_<family>.py): {', '.join(missing)}")
    stale = sorted(f"{family}.cu: {name}" for family, name in launched - kernels)
    assert not stale, f"tests/cudaemu launches kernels that kernels/*.cu no longer has: {', '.join(stale)}"
