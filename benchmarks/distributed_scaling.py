"""Data-parallel scaling on this machine: MPI allreduce bandwidth and training throughput at 1..N ranks.

    python benchmarks/distributed_scaling.py                         # configs 1x1 1x2 2x1, 3 rounds
    python benchmarks/distributed_scaling.py --configs 1x4 2x2 4x1 --print   # ranks x threads; markdown table

Writes results/distributed-<date>-<commit>.json. For each config RANKSxTHREADS it starts `mpiexec -n RANKS`
on this script (--worker) with THREADS numba/BLAS threads per rank; the configs run in turn, --rounds
times, and the table shows each one's median. Each run measures the allreduce of 4 KB .. 64 MB float32
buffers (algorithm bandwidth = bytes / time; bus bandwidth = 2 (N-1) / N x that, the bytes each rank sends
in a ring allreduce, as nccl-tests reports), then
times fit on the MNIST LeNet of examples/ (global batch 128, random data, after a warm-up that compiles the
kernels), with the gradient allreduce overlapping backward and without. The machine's load average is
recorded: other processes on the same cores make every number slower.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = [2**12, 2**16, 2**20, 2**22, 2**24, 2**26]  # bytes


def measure_allreduce(strategy):
    import numpy as np
    from mpi4py import MPI

    comm = strategy.host.comm

    def timed(buffer, repeats):  # the slowest rank's time per allreduce
        comm.Barrier()
        start = time.perf_counter()
        for _ in range(repeats):
            strategy.host.allreduce_sum(buffer)
        return comm.allreduce((time.perf_counter() - start) / repeats, op=MPI.MAX)

    rows = []
    for size in SIZES:
        buffer = np.ones(size // 4, np.float32)
        estimate = timed(buffer, 3)  # also the warm-up: connections, pages
        seconds = timed(buffer, max(3, int(0.5 / estimate)))  # every rank runs the same count
        algorithm = size / seconds
        rows.append({"bytes": size, "seconds": seconds, "algorithm_GBps": algorithm / 1e9,
                     "bus_GBps": algorithm * 2 * (strategy.size - 1) / strategy.size / 1e9})
    return rows


def measure_training(strategy, overlap, steps):
    import numpy as np

    import deepcore as dc

    strategy.overlap = overlap
    dc.utils.set_random_seed(0)
    with strategy.scope():
        model = dc.Sequential([
            dc.Input((28, 28, 1)),
            dc.layers.Conv2D(20, 5, activation="relu"), dc.layers.MaxPooling2D(2),
            dc.layers.Conv2D(50, 5, activation="relu"), dc.layers.MaxPooling2D(2),
            dc.layers.Flatten(), dc.layers.Dense(500, activation="relu"), dc.layers.Dense(10),
        ])
        model.compile("adam", dc.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    batch = 128
    x = rng.random((batch * steps, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, batch * steps)
    model.fit(x[:batch * 3], y[:batch * 3], batch_size=batch, epochs=1, verbose=0)  # compile, build buckets
    strategy.host.comm.Barrier()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    strategy.host.comm.Barrier()
    seconds = time.perf_counter() - start
    parameters = sum(w.size for w in model.trainable_weights)
    return {"overlap": overlap, "global_batch": batch, "steps": steps, "seconds": seconds,
            "images_per_s": batch * steps / seconds, "gradient_bytes": 4 * parameters}


def worker(args):
    import deepcore as dc

    strategy = dc.distribute.DataParallel()
    if strategy.size == 1:  # a world of one: time MPI-free training only
        from mpi4py import MPI
        strategy.host.comm = MPI.COMM_SELF
    measure_training(strategy, True, 4)  # first run in a process: kernel compilation, allocator growth
    result = {"ranks": strategy.size, "threads_per_rank": args.threads,
              "allreduce": measure_allreduce(strategy) if strategy.size > 1 else [],
              "training": [measure_training(strategy, overlap, args.steps) for overlap in (True, False)]}
    if strategy.is_chief:
        print("RESULT " + json.dumps(result), flush=True)


def main(args):
    from deepcore.distribute.launch import find_mpiexec

    configs = [tuple(int(part) for part in config.split("x")) for config in args.configs]
    load = os.getloadavg()[0]
    runs = []
    for round_ in range(args.rounds):
        for ranks, threads in configs:
            env = {**os.environ, **{name: str(threads) for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS",
                                                                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
            command = [find_mpiexec(), "-n", str(ranks), sys.executable, __file__, "--worker",
                       "--threads", str(threads), "--steps", str(args.steps)]
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            runs.append({**json.loads(output.split("RESULT ", 1)[1]), "round": round_})
            print(f"round {round_}, {ranks}x{threads}: " + ", ".join(
                f"{r['images_per_s']:.0f} img/s (overlap {r['overlap']})" for r in runs[-1]["training"]),
                file=sys.stderr)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    document = {"command": "python benchmarks/distributed_scaling.py " + " ".join(sys.argv[1:]),
                "timestamp": datetime.datetime.now().isoformat(timespec="seconds"), "git_commit": commit,
                "machine": {"cpu_model": _cpu_model(), "cpu_count": os.cpu_count(),
                            "load_average_at_start": load, "load_average_at_end": os.getloadavg()[0]},
                "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"distributed-{document['timestamp'][:10]}-{commit}.json"
    path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {path}", file=sys.stderr)
    if args.print:
        print(render(document))


def render(document) -> str:
    machine = document["machine"]
    lines = [f"`{document['command']}` on {machine['cpu_model']} ({machine['cpu_count']} CPU threads, load average "
             f"{machine['load_average_at_start']:.1f} at start, {machine['load_average_at_end']:.1f} at end), "
             f"commit {document['git_commit']}; medians of {1 + max(r['round'] for r in document['runs'])} rounds",
             "", "| ranks x threads | img/s, overlap | img/s, no overlap | 4 MB allreduce, bus GB/s |",
             "|---|---|---|---|"]
    configs = {}
    for run in document["runs"]:
        configs.setdefault((run["ranks"], run["threads_per_rank"]), []).append(run)
    for (ranks, threads), runs in configs.items():
        speed = lambda overlap: statistics.median(r["images_per_s"] for run in runs for r in run["training"]
                                                  if r["overlap"] == overlap)
        bus = [r["bus_GBps"] for run in runs for r in run["allreduce"] if r["bytes"] == 2**22]
        lines.append(f"| {ranks} x {threads} | {speed(True):.0f} | {speed(False):.0f} | "
                     f"{f'{statistics.median(bus):.2f}' if bus else '-'} |")
    return "\n".join(lines)


def _cpu_model():
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["1x1", "1x2", "2x1"], help="RANKSxTHREADS per rank")
    parser.add_argument("--rounds", type=int, default=3, help="times each config runs (the median is shown)")
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help="timed steps of the global batch")
    parser.add_argument("--print", action="store_true", help="print the markdown table")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    worker(arguments) if arguments.worker else main(arguments)
