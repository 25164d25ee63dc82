"""Where a CPU training step's time goes: per kernel, the rest, and the fraction of the CPU's GEMM peak.

For each bench workload it times ``train_on_batch`` (the bench's training
step) with every kernel-table call timed on its own, and prints the kernels
sorted by their share of the step, then "other" (Python, autograd, NumPy
outside the kernels). Convolution, matmul and dense calls are counted in FLOPs
(2 * multiply-adds), so the step's FLOP rate can be set against the peak of
a large float32 GEMM (NumPy's BLAS, same threads) measured in the same run.
Timing each call adds a little Python per kernel: the step time printed
beside is from a separate, untimed loop.

    python benchmarks/cpu_step_profile.py --threads 2 [--workloads resnet20,lenet5] [--steps 10] [--json PATH]
"""
from __future__ import annotations

import argparse
import collections
import json
import shlex
import statistics
import sys
import time


def conv_flops(name, args):
    """Multiply-adds x 2 of a conv kernel call, from the shapes in its arguments."""
    if name in ("conv2d_forward", "conv2d_bias_relu_forward"):
        x, w = args[0], args[1]
        n, h, width, _ = x.shape
        kh, kw, c, c_out = w.shape
        stride, padding, dilation = args[3:6] if name == "conv2d_bias_relu_forward" else args[2:5]
        out_h = (h + sum(padding[0]) - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        out_w = (width + sum(padding[1]) - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        return 2.0 * n * out_h * out_w * kh * kw * c * c_out
    if name == "conv2d_backward_data":
        gy, w = args[0], args[1]
        return 2.0 * gy.shape[0] * gy.shape[1] * gy.shape[2] * w.size
    if name == "conv2d_backward_filter":
        gy, w_shape = args[1], args[2]
        return 2.0 * gy.shape[0] * gy.shape[1] * gy.shape[2] * w_shape[0] * w_shape[1] * w_shape[2] * w_shape[3]
    if name in ("matmul", "dense_forward"):
        a, b = args[0], args[1]
        return 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
    if name == "dense_backward":  # x.T @ g, and g @ w.T when the input's gradient is asked for
        x, w, input_grad = args[0], args[1], args[3]
        return 2.0 * x.shape[0] * w.size * (2 if input_grad else 1)
    return 0.0


def gemm_peak(n=2048, repeats=10):
    """FLOP/s of an n^3 float32 GEMM on the threads it is given (best of ``repeats``): the faster of NumPy's
    BLAS and the kernel table's matmul (MKL with the mkl extra)."""
    import numpy as np

    from deepcore.backend import kernel_table

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    calls = (lambda: np.matmul(a, a, out=out), lambda: kernel_table("cpu").matmul(a, a))
    for call in calls:
        call()
    return 2.0 * n**3 / min(_seconds(call) for call in calls for _ in range(repeats))


def _seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def profile(workload, steps):
    """Per-kernel seconds and FLOPs of one training step (averaged over ``steps``), and the untimed step time."""
    import importlib

    from deepcore.bench import models

    table_module = importlib.import_module("deepcore.backend.kernel_table")
    table = table_module.kernel_table("cpu")
    modes = models.deepcore_modes(workload, "cpu", workload.batch_size)
    next(modes)
    _, train = next(modes)
    for _ in range(3):
        train()
    step = statistics.median(_seconds(train) for _ in range(steps))

    seconds, flops = collections.defaultdict(float), collections.defaultdict(float)
    originals = {name: getattr(table, name) for name in table_module.KERNEL_NAMES}

    def timed(name, fn):
        def run(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            seconds[name] += time.perf_counter() - start
            flops[name] += conv_flops(name, args)
            return result
        return run

    for name, fn in originals.items():
        setattr(table, name, timed(name, fn))
    try:
        timed_step = sum(_seconds(train) for _ in range(steps)) / steps
    finally:
        for name, fn in originals.items():
            setattr(table, name, fn)
    kernels = {name: {"ms": 1e3 * s / steps, "gflop": flops[name] / steps / 1e9} for name, s in seconds.items()}
    return {"step_ms": 1e3 * step, "timed_step_ms": 1e3 * timed_step,
            "other_ms": 1e3 * timed_step - sum(k["ms"] for k in kernels.values()), "kernels": kernels}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workloads", default="mlp,lenet5,mnist_cnn,cifar_cnn_bn,resnet20")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    from deepcore.bench import environment
    from deepcore.bench.workloads import WORKLOADS

    results = {"workloads": {}}
    with environment.pinned_threads(args.threads) as threads:
        results["environment"] = {**environment.describe([], threads),
                                  "command": shlex.join(["python", *sys.argv])}
        peak = gemm_peak()
        results["gemm_peak_gflops"] = peak / 1e9
        print(f"float32 GEMM peak, {args.threads} threads: {peak / 1e9:.1f} GFLOP/s")
        for name in args.workloads.split(","):
            record = results["workloads"][name] = profile(WORKLOADS[name], args.steps)
            total_flop = sum(k["gflop"] for k in record["kernels"].values())
            record["gflops"] = total_flop / (record["step_ms"] / 1e3)
            record["fraction_of_peak"] = record["gflops"] * 1e9 / peak
            print(f"\n{name}: step {record['step_ms']:.1f} ms (timed {record['timed_step_ms']:.1f} ms), "
                  f"{total_flop:.2f} GFLOP -> {record['gflops']:.1f} GFLOP/s = "
                  f"{100 * record['fraction_of_peak']:.0f}% of the GEMM peak")
            ranked = sorted(record["kernels"].items(), key=lambda item: -item[1]["ms"])
            for kernel, k in ranked:
                if k["ms"] >= 0.01 * record["timed_step_ms"]:
                    rate = f"  {k['gflop'] / (k['ms'] / 1e3):6.1f} GFLOP/s" if k["gflop"] else ""
                    print(f"  {kernel:32s} {k['ms']:8.2f} ms {100 * k['ms'] / record['timed_step_ms']:5.1f}%{rate}")
            print(f"  {'other (Python, autograd, NumPy)':32s} {record['other_ms']:8.2f} ms "
                  f"{100 * record['other_ms'] / record['timed_step_ms']:5.1f}%")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
