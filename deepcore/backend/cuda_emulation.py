"""Run the CUDA kernels of ``kernels/*.cu`` on the CPU, unchanged, for CI without a GPU.

``EmulatedModule(path)`` stands in for ``cupy.RawModule(path=...)``: its
``get_function(name)`` returns a kernel called as CuPy's are,
``kernel(grid, block, args)``, with NumPy arrays for the pointer arguments
(written in place) and NumPy scalars of the exact parameter type.

How: the ``extern "C" __global__`` signatures are parsed from the source, a
launcher is generated for them and compiled with g++ against
``kernels/emulation/cuda_cpu.h`` (and its runtime, compiled once per mode) into
one shared library per ``.cu`` file and mode, cached by content hash under
``cache_directory()``. Every launch runs in a worker process
(``kernels/emulation/worker.py``) that loads the library with ctypes, so that an
out-of-bounds write, a sanitizer report or a deadlocked barrier becomes a
:class:`CudaEmulationError` instead of killing the caller. Modes (argument
``mode`` or ``DEEPCORE_CUDA_EMU``):

``plain``  parity: -O1, no instrumentation;
``asan``   memcheck: AddressSanitizer (every global buffer copied into an
           exact-size allocation, redzones between ``__shared__`` arrays) and
           UndefinedBehaviorSanitizer (misaligned vector loads, int overflow);
``tsan``   racecheck: ThreadSanitizer; a missing ``__syncthreads()`` is a race.

The sanitizer modes run the blocks of a launch in the reverse order of ``plain``.
What emulation cannot check (timing, coalescing, occupancy, races between blocks)
is listed in ``kernels/emulation/README.md``.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODES = ("plain", "asan", "tsan")
_COMMON_FLAGS = ("-std=c++20", "-g", "-fPIC", "-pthread", "-fno-fast-math", "-ffp-contract=off")
_MODE_FLAGS = {
    "plain": ("-O1",),
    "asan": ("-O1", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=undefined", "-fsanitize-sections=cudaemu_shared"),
    "tsan": ("-O1", "-fsanitize=thread"),
}
_RUNTIME = {"asan": "libasan.so", "tsan": "libtsan.so"}
_SANITIZER_OPTIONS = {
    "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    "TSAN_OPTIONS": "halt_on_error=1:report_thread_leaks=0:report_signal_unsafe=0",
}
# C scalar types a kernel parameter may have, as NumPy dtypes (LP64).
_DTYPES = {
    "float": "float32", "double": "float64", "bool": "bool",
    "int": "int32", "signed": "int32", "signed int": "int32", "int32_t": "int32",
    "unsigned": "uint32", "unsigned int": "uint32", "uint32_t": "uint32",
    "long": "int64", "long long": "int64", "long long int": "int64", "int64_t": "int64",
    "unsigned long": "uint64", "unsigned long long": "uint64", "uint64_t": "uint64", "size_t": "uint64",
    "short": "int16", "unsigned short": "uint16", "char": "int8", "signed char": "int8",
    "int8_t": "int8", "unsigned char": "uint8", "uint8_t": "uint8",
}


class CudaEmulationError(RuntimeError):
    """A kernel failed to compile or misbehaved (sanitizer report, deadlock, crash) in emulation."""


@dataclass(frozen=True)
class Parameter:
    name: str
    ctype: str              # normalized C++ type, e.g. "const float*", "float* const*" or "int"
    dtype: np.dtype | None  # element type (of the pointed-to data for pointers); None for void*
    indirection: int        # 0 scalar, 1 array, 2 table of arrays (multi-tensor kernels)
    const: bool             # the pointed-to data is const: the kernel only reads it


@dataclass(frozen=True)
class KernelSignature:
    name: str
    parameters: tuple[Parameter, ...]
    max_threads: int | None  # from __launch_bounds__


def _strip_comments(source: str) -> str:
    pattern = r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\''
    return re.sub(pattern, lambda m: " " if m.group(0)[0] == "/" else m.group(0), source, flags=re.S)


def _parse_parameter(text: str, kernel: str) -> Parameter:
    tokens = re.findall(r"[A-Za-z_]\w*|\*|&|\[", re.sub(r"\b__restrict(__)?\b", " ", text))
    if len(tokens) < 2 or not re.fullmatch(r"[A-Za-z_]\w*", tokens[-1]) or {"&", "["} & set(tokens):
        raise CudaEmulationError(f"{kernel}: cannot emulate parameter '{text.strip()}' "
                                 "(expected a named scalar or pointer, e.g. 'const float* x' or 'int n')")
    # "const float* const* p": segments ["const float", "const", ""]: what each '*' level qualifies.
    segments = " ".join(tokens[:-1]).split("*")
    base_tokens = segments[0].split()
    base = " ".join(t for t in base_tokens if t not in ("const", "volatile"))
    indirection = len(segments) - 1
    if indirection > 2 or "volatile" in tokens or (base not in _DTYPES and not (indirection and base == "void")):
        raise CudaEmulationError(f"{kernel}: parameter '{text.strip()}' has a type the emulator does not map "
                                 f"to NumPy (scalars, pointers and pointers to pointers of: "
                                 f"{', '.join(sorted(_DTYPES))}, void)")
    const = bool(indirection) and "const" in base_tokens
    ctype = ("const " if const else "") + base
    for level, qualifiers in enumerate(segments[1:], start=1):
        ctype += "*" + (" const" if "const" in qualifiers.split() and level < indirection else "")
    dtype = np.dtype(_DTYPES[base]) if base in _DTYPES else None
    return Parameter(tokens[-1], ctype, dtype, indirection, const)


def parse_kernels(source: str) -> dict[str, KernelSignature]:
    """Every ``__global__`` function of a .cu source, by name, in source order."""
    kernels = {}
    source = _strip_comments(source)
    for match in re.finditer(r"\b__global__\b([^;{]*)", source):
        declaration = match.group(1)
        bounds = re.search(r"__launch_bounds__\s*\(\s*(\d+)[^)]*\)", declaration)
        declaration = re.sub(r"__launch_bounds__\s*\([^)]*\)", " ", declaration)
        found = re.fullmatch(r"\s*void\s+([A-Za-z_]\w*)\s*\((.*)\)\s*", declaration, flags=re.S)
        if found is None:
            raise CudaEmulationError(f"cannot parse the kernel declaration '__global__{match.group(1).strip()}' "
                                     "(expected '__global__ void name(parameters)', no templates)")
        name, parameter_text = found.groups()
        parts = [p for p in parameter_text.split(",") if p.strip() not in ("", "void")]
        kernels[name] = KernelSignature(name, tuple(_parse_parameter(p, name) for p in parts),
                                        int(bounds.group(1)) if bounds else None)
    return kernels


def _kinds(kernel: KernelSignature) -> str:
    """One letter per parameter for the runtime: scalar, read-only array, written array, table."""
    return "".join("s" if p.indirection == 0 else "t" if p.indirection == 2 else "r" if p.const else "w"
                   for p in kernel.parameters)


def generate_launcher(source_path: Path, kernels: dict[str, KernelSignature]) -> str:
    """C++ that includes the .cu and exports ``cudaemu_launch(name, grid, block, params, sizes)``."""
    lines = [f"// Generated by deepcore/backend/cuda_emulation.py from {source_path.name}; do not edit.",
             '#include "cuda_cpu.h"', f'#include "{source_path}"', ""]
    for kernel in kernels.values():
        types = ", ".join(p.ctype for p in kernel.parameters)
        arguments = ", ".join(f"*static_cast<{p.ctype}*>(a[{i}])" for i, p in enumerate(kernel.parameters))
        lines += [f"static_assert(std::is_same_v<decltype(&{kernel.name}), void (*)({types})>,",
                  f'              "cuda_emulation.py misparsed {kernel.name}({types})");',
                  f"static void call_{kernel.name}(void* const* a) {{ {kernel.name}({arguments}); }}", ""]
    lines += ['extern "C" int cudaemu_launch(const char* name, const unsigned* grid, const unsigned* block,',
              "                              void** params, const size_t* sizes) {"]
    for name, kernel in kernels.items():
        lines.append(f'    if (!__builtin_strcmp(name, "{name}")) return cudaemu::run("{name}", call_{name}, '
                     f'"{_kinds(kernel)}", grid, block, params, sizes);')
    lines += ["    return -1;", "}", ""]
    return "\n".join(lines)


def emulation_directory() -> Path:
    """kernels/emulation (cuda_cpu.h, its runtime, the worker): in the checkout, or in a wheel's deepcore/_kernels."""
    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "kernels" / "emulation", here.parents[1] / "_kernels" / "emulation"]
    return next((folder for folder in candidates if (folder / "cuda_cpu.h").is_file()), candidates[0])


def compiler() -> str:
    """``$CXX``, by default ``g++`` (12 or newer: C++20 with std::barrier)."""
    return os.environ.get("CXX", "g++")


@functools.cache
def _compiler_version() -> str:
    return subprocess.run([compiler(), "--version"], capture_output=True, text=True, check=True).stdout


@functools.cache
def _sanitizer_runtime(mode: str) -> str:
    return subprocess.run([compiler(), f"-print-file-name={_RUNTIME[mode]}"],
                          capture_output=True, text=True, check=True).stdout.strip()


def cache_directory() -> Path:
    """``$DEEPCORE_CUDA_EMU_CACHE``, by default ``~/.cache/deepcore/cudaemu``."""
    root = os.environ.get("DEEPCORE_CUDA_EMU_CACHE")
    if root:
        return Path(root).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "deepcore" / "cudaemu"


def _local_includes(path: Path, seen: set[Path]) -> None:
    for name in re.findall(r'^\s*#\s*include\s*"([^"]+)"', path.read_text(), flags=re.M):
        included = (path.parent / name).resolve()
        if included.is_file() and included not in seen:
            seen.add(included)
            _local_includes(included, seen)


def resolve_mode(mode: str | None = None) -> str:
    mode = mode or os.environ.get("DEEPCORE_CUDA_EMU") or "plain"
    if mode not in MODES:
        raise ValueError(f"CUDA emulation mode must be one of {MODES}, got {mode!r} (argument or DEEPCORE_CUDA_EMU)")
    return mode


def _compile(target: Path, source: Path, flags: list[str], what: str) -> None:
    """Run the compiler into a temporary file, then rename it into place (concurrent builds are harmless)."""
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    os.close(handle)
    partial = Path(partial)
    result = subprocess.run([compiler(), *flags, str(source), "-o", str(partial)], capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise CudaEmulationError(f"{what} does not compile for CUDA emulation:\n{result.stderr[-6000:]}")
    os.replace(partial, target)
    # Older builds of the same file and mode are stale: keep the cache to one per (file, mode).
    stem, mode, _ = target.stem.rsplit("-", 2)
    for old in target.parent.glob(f"{stem}-{mode}-*"):
        if old.suffix != ".tmp" and not old.name.startswith(target.stem):
            old.unlink(missing_ok=True)


def _cached(stem: str, mode: str, suffix: str, parts: list[str], files: list[Path]) -> Path:
    key = hashlib.sha256("\0".join([_compiler_version(), *parts]).encode())
    for path in files:
        key.update(path.read_bytes())
    directory = cache_directory()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{stem}-{mode}-{key.hexdigest()[:16]}{suffix}"


_runtime_lock = threading.Lock()


def _runtime_object(mode: str) -> Path:
    """cuda_cpu_runtime.cpp compiled for ``mode`` (once, then from the cache)."""
    directory = emulation_directory()
    flags = [*_COMMON_FLAGS, *_MODE_FLAGS[mode], f"-I{directory}", "-c"]
    source = directory / "cuda_cpu_runtime.cpp"
    target = _cached("runtime", mode, ".o", flags, [source, directory / "cuda_cpu.h"])
    with _runtime_lock:  # parallel builds of several kernel files share it
        if not target.exists():
            _compile(target, source, flags, "kernels/emulation/cuda_cpu_runtime.cpp")
    return target


def build_library(source_path, mode: str | None = None) -> Path:
    """Compile one .cu file for emulation (or find it in the cache); returns the shared library."""
    mode, source_path = resolve_mode(mode), Path(source_path).resolve()
    launcher = generate_launcher(source_path, parse_kernels(source_path.read_text()))
    runtime = _runtime_object(mode)
    flags = [*_COMMON_FLAGS, *_MODE_FLAGS[mode], f"-I{emulation_directory()}", "-shared", str(runtime)]
    inputs = {source_path}
    _local_includes(source_path, inputs)
    # Keyed by content, not folder: a copy of the same source elsewhere (another checkout, a
    # test's temporary folder) reuses the library; its reports then name the first copy's path.
    library = _cached(source_path.stem, mode, ".so", [*flags, launcher.replace(str(source_path), source_path.name)],
                      [*sorted(inputs), emulation_directory() / "cuda_cpu.h"])
    if not library.exists():
        launcher_path = library.with_suffix(".cpp")
        launcher_path.write_text(launcher)
        _compile(library, launcher_path, flags, source_path.name)
    return library


# Stack frames of the emulator, the C++ library, threads and the interpreter: not the kernel's.
_NOISE = re.compile(r"^\s+#\d+ .*(/c\+\+/|cuda_cpu|cudaemu/\S+\.cpp|nptl/|clone3|libstdc\+\+|libffi|/Python-|"
                    r"python3|_ctypes|<null>)")


def _report(text: str, limit: int = 60) -> str:
    """The emulator's or sanitizer's report from a worker's stderr, without the frames of the
    emulator, the C++ library and the interpreter; the CUDA thread it names comes first."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if re.search(r"ERROR: |WARNING: ThreadSanitizer|runtime error|^cudaemu:", line)), 0)
    end = next((i for i, line in enumerate(lines) if line.startswith("Shadow bytes around")), len(lines))
    kept = [line for line in lines[start:end] if not _NOISE.match(line)]
    context = [line for line in lines if line.startswith("cudaemu:")]
    return "\n".join(context + [line for line in kept if line not in context][:limit])


class _Worker:
    """A process that has loaded one emulation library and runs the launches sent to it."""

    def __init__(self, library: Path, mode: str):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", **_SANITIZER_OPTIONS)
        if mode in _RUNTIME:  # a sanitizer's runtime must be loaded before anything else
            env["LD_PRELOAD"] = _sanitizer_runtime(mode)
        self.stderr = tempfile.TemporaryFile()
        worker = emulation_directory() / "worker.py"
        self.process = subprocess.Popen([sys.executable, "-I", str(worker), str(library)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=env)

    def call(self, header: dict, payloads: list[bytes], reply_sizes: list[int]) -> list[bytes] | None:
        try:
            self.process.stdin.write(json.dumps(header).encode() + b"\n")
            for payload in payloads:
                self.process.stdin.write(payload)
            self.process.stdin.flush()
            if not self.process.stdout.readline():
                return None
            return [self.process.stdout.read(size) for size in reply_sizes]
        except BrokenPipeError:
            return None

    def failure(self) -> str:
        self.process.stdin.close()
        status = self.process.wait()
        self.stderr.seek(0)
        how = f"killed by signal {-status}" if status < 0 else f"exited with status {status}"
        return f"{how}\n{_report(self.stderr.read().decode(errors='replace'))}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait()
        self.stderr.close()


class EmulatedModule:
    """The CPU stand-in for ``cupy.RawModule(path=source_path)``."""

    def __init__(self, source_path, mode: str | None = None):
        self.path = Path(source_path)
        self.mode = resolve_mode(mode)
        self.kernels = parse_kernels(self.path.read_text())
        self.library = build_library(self.path, self.mode)
        self._worker = None

    def get_function(self, name: str) -> EmulatedKernel:
        if name not in self.kernels:
            raise ValueError(f"{self.path.name} has no __global__ kernel {name!r}; it has {sorted(self.kernels)}")
        return EmulatedKernel(self, self.kernels[name])

    def launch(self, signature: KernelSignature, grid, block, args) -> None:
        header, payloads, receivers = _marshal(signature, grid, block, args)
        if self._worker is None:
            self._worker = _Worker(self.library, self.mode)
        replies = self._worker.call(header, payloads, [array.nbytes for array in receivers])
        if replies is None:
            report, self._worker = self._worker.failure(), None
            raise CudaEmulationError(f"kernel {signature.name} of {self.path.name} failed under CUDA emulation "
                                     f"({self.mode}, grid {header['grid']}, block {header['block']}): {report}")
        for array, reply in zip(receivers, replies):
            array[...] = np.frombuffer(reply, array.dtype).reshape(array.shape)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None


@dataclass(frozen=True)
class EmulatedKernel:
    module: EmulatedModule
    signature: KernelSignature

    def __call__(self, grid, block, args) -> None:
        self.module.launch(self.signature, grid, block, tuple(args))


def _dim3(value, what: str, kernel: str) -> list[int]:
    dims = [value] if isinstance(value, (int, np.integer)) else list(value)
    if not 1 <= len(dims) <= 3 or any(not isinstance(d, (int, np.integer)) or d < 1 for d in dims):
        raise ValueError(f"{kernel}: {what} must be 1 to 3 positive ints, got {value!r}")
    return [int(d) for d in dims] + [1] * (3 - len(dims))


def _check_array(array, parameter: Parameter, where: str) -> None:
    if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
        raise TypeError(f"{where}: expected a C-contiguous numpy array, got {type(array).__name__}")
    if parameter.dtype is not None and array.dtype != parameter.dtype:
        raise TypeError(f"{where}: expected dtype {parameter.dtype}, got {array.dtype}")
    if not parameter.const and not array.flags.writeable:
        raise TypeError(f"{where}: the kernel writes it, but the array is read-only")


def _marshal(signature: KernelSignature, grid, block, args):
    """Check a launch as the GPU would and lay it out for the worker: (header, payloads, receivers),
    the receivers being the arrays the kernel may write, in the order the worker sends them back."""
    name = signature.name
    grid, block = _dim3(grid, "grid", name), _dim3(block, "block", name)
    limit = signature.max_threads or 1024
    if block[0] * block[1] * block[2] > limit or block[2] > 64 or grid[1] > 65535 or grid[2] > 65535:
        raise ValueError(f"{name}: block {tuple(block)} / grid {tuple(grid)} exceed the launch limits "
                         f"(at most {limit} threads per block, block z <= 64, grid y, z <= 65535)")
    if len(args) != len(signature.parameters):
        raise ValueError(f"{name} takes {len(signature.parameters)} arguments "
                         f"({', '.join(p.name for p in signature.parameters)}), got {len(args)}")
    described, payloads, receivers, first_index = [], [], {}, {}
    for index, (parameter, arg) in enumerate(zip(signature.parameters, args)):
        where = f"{name} argument {parameter.name} ({parameter.ctype})"
        if parameter.indirection == 2:  # a device array of pointers: here a list of arrays
            if not isinstance(arg, (list, tuple)):
                raise TypeError(f"{where}: expected a list of numpy arrays (one per tensor), got {type(arg).__name__}")
            for array in arg:
                _check_array(array, parameter, where)
            described.append({"table": [array.nbytes for array in arg]})
            payloads += [array.tobytes() for array in arg]
            if not parameter.const:
                receivers[index] = list(arg)
        elif parameter.indirection == 1:
            _check_array(arg, parameter, where)
            first = first_index.setdefault((arg.__array_interface__["data"][0], arg.nbytes), index)
            if not parameter.const:
                receivers[first] = [arg]
            if first != index:  # one array passed twice: one buffer in the worker
                described.append({"alias": first})
                continue
            described.append({"pointer": arg.nbytes})
            payloads.append(arg.tobytes())
        else:
            if not isinstance(arg, np.generic) or arg.dtype != parameter.dtype:
                raise TypeError(f"{where}: expected numpy.{parameter.dtype}(...), got {type(arg).__name__} "
                                f"(CuPy passes a Python int or float as a 64-bit value)")
            described.append({"scalar": arg.nbytes})
            payloads.append(arg.tobytes())
    header = {"kernel": name, "grid": grid, "block": block, "args": described, "written": sorted(receivers)}
    return header, payloads, [array for index in sorted(receivers) for array in receivers[index]]
