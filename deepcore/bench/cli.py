"""``deepcore bench models|ops``: throughput of whole models and of single kernels, CPU vs GPU vs PyTorch.

    deepcore bench models [--device cpu,gpu] [--workloads mlp,resnet20] [--compare torch] [--json PATH] [--plot PATH]
    deepcore bench ops    [--device cpu,gpu] [--ops conv,batchnorm_backward] [--json PATH] [--plot PATH]

Without the console script: ``python -m deepcore.bench.cli models ...``.
``main(argv)`` takes the words after ``bench`` and returns the exit status:
0, or 1 when a workload failed (its error is printed and kept in the JSON).
"""
from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from . import environment, report
from .ops import OP_FAMILIES, OP_NAMES, case_count, run_ops
from .workloads import WORKLOADS

SCHEMA = "deepcore-bench/1"


def _names(kind, choices, aliases=None):
    """argparse type: a comma-separated list, each name in ``choices`` (or an alias expanding to several)."""
    aliases = aliases or {}

    def parse(text):
        names = []
        for name in filter(None, (part.strip().lower() for part in text.split(","))):
            if name in aliases:
                names += [n for n in aliases[name] if n not in names]
            elif name in choices:
                names += [name] if name not in names else []
            else:
                known = ", ".join([*aliases, *choices])
                raise argparse.ArgumentTypeError(f"unknown {kind} {name!r}; choose from: {known}")
        if not names:
            raise argparse.ArgumentTypeError(f"expected at least one {kind}")
        return tuple(names)

    return parse


def _integer(minimum, description):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {description}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {description}, got {value}")
        return value

    return parse


_positive, _non_negative = _integer(1, "a positive integer"), _integer(0, "a non-negative integer")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepcore bench", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{models,ops}")
    models = commands.add_parser("models", help="training and inference images/s of the standard workloads")
    models.add_argument("--workloads", type=_names("workload", tuple(WORKLOADS)), default=tuple(WORKLOADS),
                        help=f"comma-separated, default all: {','.join(WORKLOADS)}")
    models.add_argument("--compare", choices=("torch",), help="also run the same models in PyTorch")
    ops = commands.add_parser("ops", help="per-kernel time, GFLOP/s or GB/s, and fraction of the device's peak")
    ops.add_argument("--ops", type=_names("op", OP_NAMES, OP_FAMILIES), default=OP_NAMES,
                     help=f"comma-separated op names or families ({','.join(OP_FAMILIES)}), default all")
    for command, steps_help in ((models, "timed steps per repeat (default 10)"),
                                (ops, "calls per repeat (default: enough for ~50 ms)")):
        command.add_argument("--device", type=_names("device", ("cpu", "gpu")), default=None,
                             help="cpu, gpu or cpu,gpu (default: every available device)")
        command.add_argument("--batch-size", type=_positive, default=None,
                             help="override every workload's batch size" if command is models else
                             "images per call (default: convolutions 2, other ops 8 on cpu; 64 and 128 on gpu)")
        command.add_argument("--steps", type=_positive, default=10 if command is models else None, help=steps_help)
        command.add_argument("--warmup", type=_non_negative, default=2 if command is models else 1,
                             help="untimed calls before timing (compilation, caches)")
        command.add_argument("--repeats", type=_positive, default=3, help="timed repeats; median, min and max")
        command.add_argument("--threads", type=_positive, default=None,
                             help="threads for BLAS, numba and torch (default: the libraries' own choice)")
        command.add_argument("--json", metavar="PATH", help="write the results as JSON")
        command.add_argument("--plot", metavar="PATH", help="write a bar chart (PNG): images/s per workload and "
                             "mode" if command is models else "write a bar chart (PNG): each kernel's %% of peak")
    return parser


def _devices(requested) -> tuple[list[str], list[str]]:
    """(devices to run, messages about requested devices that cannot run)."""
    from ..backend import gpu_probe

    usable, reason = gpu_probe()
    if requested is None:
        return (["cpu", "gpu"] if usable else ["cpu"]), []
    if "gpu" in requested and not usable:
        return [d for d in requested if d != "gpu"], [f"skipping gpu: {reason}"]
    return list(requested), []


def run_models_command(args, devices, header) -> tuple[dict, int]:
    from .models import run_isolated

    frameworks = ["deepcore"] + (["torch"] if args.compare == "torch" else [])
    jobs = [(WORKLOADS[w], d, f) for w in args.workloads for d in devices for f in frameworks]
    records = []
    with tqdm(jobs, desc="bench models", unit="run", file=sys.stderr, disable=None) as progress:
        for workload, device_name, framework in progress:
            progress.set_postfix_str(f"{workload.name} {framework} {device_name}")
            records += run_isolated(workload, device_name, framework, args.batch_size, args.warmup, args.steps,
                                    args.repeats, args.threads)
    print(report.format_table(*report.models_rows(records)) if records else "(nothing ran)")
    if any(r.get("noisy") for r in records):
        print(f"{report.NOISY_MARK} noisy: repeats differ by more than 10% of the median")
    failed = any(r["status"] == "error" for r in records)
    return {**header, "results": records}, int(failed)


def run_ops_command(args, devices, header) -> tuple[dict, int]:
    peaks, records = {}, []
    with tqdm(total=case_count(args.ops) * len(devices), desc="bench ops", unit="op", file=sys.stderr,
              disable=None) as progress:
        for device_name in devices:
            peaks[device_name], found = run_ops(device_name, args.batch_size, args.ops, args.warmup, args.steps,
                                                args.repeats, progress)
            records += found
    for device_name, peak in peaks.items():
        print(f"{device_name} peak: GEMM {peak['gemm']['flops_per_second']['max'] / 1e9:,.1f} GFLOP/s "
              f"(float32 {peak['gemm']['shape'][0]}^3), copy {peak['copy']['bytes_per_second']['max'] / 1e9:,.1f}"
              f" GB/s ({peak['copy']['bytes'] / 2**20:.0f} MiB moved)")
    print(report.format_table(*report.ops_rows(records)) if records else "(nothing ran)")
    return {**header, "peaks": peaks, "results": records}, 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    devices, notes = _devices(args.device)
    for note in notes:
        print(note, file=sys.stderr)
    with environment.pinned_threads(args.threads, torch=getattr(args, "compare", None) == "torch") as threads:
        header = {"schema": SCHEMA, "kind": args.command, **environment.describe(argv, threads),
                  "settings": {"devices": devices, "batch_size": args.batch_size, "warmup": args.warmup,
                               "steps": args.steps, "repeats": args.repeats},
                  "skipped_devices": notes}
        run = run_models_command if args.command == "models" else run_ops_command
        document, status = run(args, devices, header) if devices else ({**header, "results": []}, 0)
    document["machine"]["load_average_at_end"] = environment.load_average()
    document["threads"]["numba_threading_layer"] = environment.numba_threading_layer()
    for line in report.messages(document["results"]) if args.command == "models" else []:
        print(line, file=sys.stderr)
    if args.json:
        report.write_json(args.json, document)
        print(f"wrote {args.json}")
    if args.plot and document["results"]:
        (report.plot_models if args.command == "models" else report.plot_ops)(document, args.plot)
        print(f"wrote {args.plot}")
    return status


if __name__ == "__main__":
    sys.exit(main())
