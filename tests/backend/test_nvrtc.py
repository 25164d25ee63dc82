"""Every ``kernels/*.cu`` compiles with NVRTC for sm_80 and sm_90, without a GPU, and without register spills.

NVRTC comes from the ``nvidia-cuda-nvrtc`` wheel (the ``dev`` extra), called
through ctypes with the options ``cuda_modules`` uses at run time plus
``-arch=sm_XX -Xptxas -v`` so that ptxas reports registers and spills per
kernel. Without the wheel the compile tests skip with a message. The source
tests below need nothing: each ``__global__`` is ``extern "C"``, registered in
``cuda_modules.CUDA_FUNCTIONS`` and launched from a ``deepcore/backend/cuda_*.py`` wrapper, and
carries the launch/layout/reference comment the style asks for.
"""
import ctypes
import re
import sys
from pathlib import Path

import pytest

from deepcore.backend import cuda_kernels, cuda_modules

pytestmark = pytest.mark.nvrtc

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "kernels"
SOURCES = sorted(KERNELS.glob("*.cu"))
ARCHITECTURES = ("sm_80", "sm_90")
GLOBAL = re.compile(r'(extern "C"\s+)?__global__\s+void\s+(\w+)\s*\(')


def find_nvrtc():
    """libnvrtc from an installed nvidia-cuda-nvrtc wheel (CUDA 13 layout first, then CUDA 12), or None."""
    patterns = ("nvidia/cu13/lib/libnvrtc.so.*", "nvidia/cuda_nvrtc/lib/libnvrtc.so.*", "nvidia/*/lib/libnvrtc.so*")
    for folder in map(Path, sys.path):
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                if "builtins" not in path.name and path.is_file():
                    return path
    return None


@pytest.fixture(scope="module")
def nvrtc():
    path = find_nvrtc()
    if path is None:
        pytest.skip("NVRTC not found: pip install 'nvidia-cuda-nvrtc==13.*' (in the dev extra) to compile the kernels")
    return ctypes.CDLL(str(path))


def compile_source(nvrtc, source: Path, options):
    """(status, log) of compiling ``source`` to a cubin."""
    program = ctypes.c_void_p()
    status = nvrtc.nvrtcCreateProgram(ctypes.byref(program), source.read_bytes(), source.name.encode(), 0, None, None)
    assert status == 0, f"nvrtcCreateProgram failed with status {status}"
    try:
        encoded = [option.encode() for option in options]
        status = nvrtc.nvrtcCompileProgram(program, len(encoded), (ctypes.c_char_p * len(encoded))(*encoded))
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(program, log)
        return status, log.value.decode(errors="replace")
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(program))


def resource_usage(log: str) -> dict:
    """kernel -> {'registers', 'spill_stores', 'spill_loads'} from ptxas -v output."""
    usage = {}
    for block in re.split(r"ptxas info\s*: Compiling entry function", log)[1:]:
        name = re.match(r"\s*'(\w+)'", block).group(1)
        spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", block)
        registers = re.search(r"Used (\d+) registers", block)
        usage[name] = {"registers": int(registers.group(1)), "spill_stores": int(spills.group(1)),
                       "spill_loads": int(spills.group(2))}
    return usage


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_compiles_without_warnings_or_spills(nvrtc, source, arch):
    options = (*cuda_modules.COMPILE_OPTIONS, f"-arch={arch}", "-Xptxas", "-v")
    status, log = compile_source(nvrtc, source, options)
    assert status == 0, f"NVRTC failed on {source.name} for {arch} ({' '.join(options)}):\n{log}"
    warnings = [line for line in log.splitlines() if "warning" in line.lower()]
    assert not warnings, f"{source.name} for {arch}:\n{log}"
    usage = resource_usage(log)
    assert set(usage) == set(cuda_modules.CUDA_FUNCTIONS[source.stem]), log
    spilling = {name: u for name, u in usage.items() if u["spill_stores"] or u["spill_loads"]}
    assert not spilling, f"register spills in {source.name} for {arch}: {spilling}"


def test_source_files_are_the_registered_families():
    assert {path.stem for path in SOURCES} == set(cuda_modules.CUDA_FUNCTIONS)


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_every_kernel_is_extern_c_registered_and_launched(source):
    text = source.read_text()
    found = GLOBAL.findall(text)
    assert all(extern for extern, _ in found), f"{source.name}: every __global__ must be extern \"C\""
    names = [name for _, name in found]
    assert names == list(cuda_modules.CUDA_FUNCTIONS[source.stem])
    backend = Path(cuda_modules.__file__).parent
    wrappers = "".join(path.read_text() for path in backend.glob("cuda_*.py") if path.name != "cuda_modules.py")
    for name in names:
        assert f'"{name}"' in wrappers, f"{name} is compiled but never launched from deepcore/backend/cuda_*.py"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_every_kernel_states_launch_layout_and_reference(source):
    lines = source.read_text().splitlines()
    for number, line in enumerate(lines):
        if "__global__" not in line:
            continue
        comment = []
        for above in reversed(lines[:number]):
            if not above.startswith("//"):
                break
            comment.append(above)
        text = "\n".join(comment)
        for field in ("Launch:", "Layout:", "Reference:"):
            assert field in text, f"{source.name}:{number + 1}: the comment above the kernel needs '{field}'"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.name)
def test_plain_cuda_that_the_cpu_emulator_can_run(source):
    """No macros, includes, inline PTX or templates: kernels/emulation compiles the same text with g++."""
    text = source.read_text()
    for forbidden in ("#define", "#include", "asm(", "asm volatile", "template", "__launch_bounds__", "wmma"):
        assert forbidden not in text, f"{source.name} uses {forbidden}"


def test_batchnorm_block_shape_matches_the_kernel_constants():
    text = (KERNELS / "batchnorm.cu").read_text()
    channels = int(re.search(r"kChannelsPerBlock = (\d+)", text).group(1))
    rows = int(re.search(r"kRowsPerBlock = (\d+)", text).group(1))
    assert cuda_kernels.BATCHNORM_BLOCK == (channels, rows)
