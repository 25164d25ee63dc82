"""The ``deepcore`` command: ``deepcore info`` (versions, devices, kernels), ``deepcore bench`` and
``deepcore launch`` (data-parallel training under mpiexec)."""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import platform
import sys


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cupy_version() -> str:
    try:
        import cupy
    except Exception as error:  # a broken CUDA install can raise anything at import
        return f"not importable ({type(error).__name__}: {error})"
    return cupy.__version__


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def collect_info() -> dict:
    """Versions, devices and kernel paths of this installation, as a JSON-ready dict."""
    import numba

    from .backend import cpu_blas, get_device, gpu_probe, kernel_table

    gpu_ok, gpu_reason = gpu_probe()
    info = {
        "deepcore": _version("deepcore"),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "blas": cpu_blas.BLAS,
        "cupy": _cupy_version(),
        "gpu_usable": gpu_ok,
        "gpu_probe": gpu_reason,
        "cpu": _cpu_model(),
        "cpu_threads": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "default_device": get_device().name,
        "kernels": {"cpu": kernel_table("cpu").paths},
    }
    if gpu_ok:
        info["kernels"]["gpu"] = kernel_table("gpu").paths
    return info


def _print_info(info: dict) -> None:
    width = max(len(key) for key in info)
    for key, value in info.items():
        if key != "kernels":
            print(f"{key:<{width}}  {value}")
    for device_name, paths in info["kernels"].items():
        print(f"kernels ({device_name}):")
        for kernel, path in paths.items():
            print(f"  {kernel:<32}{path}")


def _bench(argv: list) -> int:
    try:
        bench = importlib.import_module("deepcore.bench.cli")
    except ModuleNotFoundError as error:
        if error.name not in ("deepcore.bench", "deepcore.bench.cli"):
            raise  # a real missing dependency inside the bench code: show it
        print("deepcore bench: the benchmark module deepcore/bench/cli.py is not available "
              "in this installation.", file=sys.stderr)
        return 2
    return bench.main(argv) or 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="deepcore", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,bench,launch}")
    info_parser = commands.add_parser("info", help="versions, devices, GPU probe and kernel paths")
    info_parser.add_argument("--json", action="store_true", help="print one JSON object")
    # add_help=False: `deepcore bench --help` reaches the bench CLI's own help.
    commands.add_parser("bench", add_help=False,
                        help="run benchmarks (arguments go to the bench CLI; try `deepcore bench --help`)")
    commands.add_parser("launch", add_help=False,
                        help="run a script on N processes with mpiexec (try `deepcore launch --help`)")
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if args.command == "bench":
        return _bench(rest)
    if args.command == "launch":
        from .distribute.launch import main as launch
        return launch(rest)
    if rest:
        parser.error(f"unrecognized arguments for info: {' '.join(rest)}")
    info = collect_info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_info(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
