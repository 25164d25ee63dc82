"""Time the fast CPU kernels (``deepcore/backend/cpu_kernels.py``) against the NumPy reference and PyTorch.

For each layer of the bench workloads (seed MNIST CNN, CIFAR CNN with batch
norm, ResNet-20) it times forward + backward: deepcore's kernels (fast and
reference) and the torch op doing the same work (NCHW, autograd), each timed
on its own (see ``time_each``); the table gives medians (ms) over the
repeats, warm-up excluded (numba compiles there). The last lines sum the
layers of each workload, each layer counted as often as one training step
runs it. Load from other processes moves the numbers: the header prints the
load average before and after.

    python benchmarks/cpu_kernels_vs_torch.py --threads 2 [--repeats 15] [--rounds 3] [--no-reference] [--only conv]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np


def conv_case(batch, size, c_in, c_out, k, stride=1, padding="same"):
    return ("conv", dict(batch=batch, size=size, c_in=c_in, c_out=c_out, k=k, stride=stride, padding=padding))


# (workload, label, case, how many times the workload runs it per training step)
LAYERS = [
    ("mnist_cnn", "conv 5x5 1->20 @28", conv_case(64, 28, 1, 20, 5, padding="valid"), 1),
    ("mnist_cnn", "conv 5x5 20->50 @12", conv_case(64, 12, 20, 50, 5, padding="valid"), 1),
    ("mnist_cnn", "maxpool 2 @24x20", ("maxpool", dict(shape=(64, 24, 24, 20))), 1),
    ("mnist_cnn", "maxpool 2 @8x50", ("maxpool", dict(shape=(64, 8, 8, 50))), 1),
    ("mnist_cnn", "bias+relu 500", ("bias_relu", dict(shape=(64, 500))), 1),
    ("mnist_cnn", "softmax CE 10", ("softmax_ce", dict(shape=(64, 10))), 1),
    ("cifar_cnn_bn", "conv 3x3 3->32 @32", conv_case(128, 32, 3, 32, 3), 1),
    ("cifar_cnn_bn", "conv 3x3 32->32 @32", conv_case(128, 32, 32, 32, 3), 1),
    ("cifar_cnn_bn", "conv 3x3 32->64 @16", conv_case(128, 16, 32, 64, 3), 1),
    ("cifar_cnn_bn", "conv 3x3 64->64 @16", conv_case(128, 16, 64, 64, 3), 1),
    ("cifar_cnn_bn", "conv 3x3 64->128 @8", conv_case(128, 8, 64, 128, 3), 1),
    ("cifar_cnn_bn", "conv 3x3 128->128 @8", conv_case(128, 8, 128, 128, 3), 1),
    ("cifar_cnn_bn", "batchnorm @32x32", ("batchnorm", dict(shape=(128, 32, 32, 32))), 2),
    ("cifar_cnn_bn", "batchnorm @16x64", ("batchnorm", dict(shape=(128, 16, 16, 64))), 2),
    ("cifar_cnn_bn", "batchnorm @8x128", ("batchnorm", dict(shape=(128, 8, 8, 128))), 2),
    ("cifar_cnn_bn", "relu @32x32", ("bias_relu", dict(shape=(128, 32, 32, 32))), 2),
    ("cifar_cnn_bn", "relu @16x64", ("bias_relu", dict(shape=(128, 16, 16, 64))), 2),
    ("cifar_cnn_bn", "relu @8x128", ("bias_relu", dict(shape=(128, 8, 8, 128))), 2),
    ("cifar_cnn_bn", "maxpool 2 @32x32", ("maxpool", dict(shape=(128, 32, 32, 32))), 1),
    ("cifar_cnn_bn", "maxpool 2 @16x64", ("maxpool", dict(shape=(128, 16, 16, 64))), 1),
    ("cifar_cnn_bn", "maxpool 2 @8x128", ("maxpool", dict(shape=(128, 8, 8, 128))), 1),
    ("cifar_cnn_bn", "softmax CE 10", ("softmax_ce", dict(shape=(128, 10))), 1),
    ("resnet20", "conv 3x3 3->16 @32", conv_case(128, 32, 3, 16, 3), 1),
    ("resnet20", "conv 3x3 16->16 @32", conv_case(128, 32, 16, 16, 3), 6),
    ("resnet20", "conv 3x3 16->32 /2 @32", conv_case(128, 32, 16, 32, 3, stride=2), 1),
    ("resnet20", "conv 1x1 16->32 /2 @32", conv_case(128, 32, 16, 32, 1, stride=2, padding="valid"), 1),
    ("resnet20", "conv 3x3 32->32 @16", conv_case(128, 16, 32, 32, 3), 5),
    ("resnet20", "conv 3x3 32->64 /2 @16", conv_case(128, 16, 32, 64, 3, stride=2), 1),
    ("resnet20", "conv 1x1 32->64 /2 @16", conv_case(128, 16, 32, 64, 1, stride=2, padding="valid"), 1),
    ("resnet20", "conv 3x3 64->64 @8", conv_case(128, 8, 64, 64, 3), 5),
    ("resnet20", "batchnorm @32x16", ("batchnorm", dict(shape=(128, 32, 32, 16))), 7),
    ("resnet20", "batchnorm @16x32", ("batchnorm", dict(shape=(128, 16, 16, 32))), 7),
    ("resnet20", "batchnorm @8x64", ("batchnorm", dict(shape=(128, 8, 8, 64))), 7),
    ("resnet20", "relu @32x16", ("bias_relu", dict(shape=(128, 32, 32, 16))), 7),
    ("resnet20", "relu @16x32", ("bias_relu", dict(shape=(128, 16, 16, 32))), 6),
    ("resnet20", "relu @8x64", ("bias_relu", dict(shape=(128, 8, 8, 64))), 6),
    ("resnet20", "softmax CE 10", ("softmax_ce", dict(shape=(128, 10))), 1),
]


def deepcore_step(table, kind, p, rng):
    """A closure running forward + backward of one layer through the kernel table ``table``."""
    from deepcore.ops.conv import resolve_padding

    if kind == "conv":
        x = rng.standard_normal((p["batch"], p["size"], p["size"], p["c_in"]), dtype=np.float32)
        w = rng.standard_normal((p["k"], p["k"], p["c_in"], p["c_out"]), dtype=np.float32)
        stride, dilation = (p["stride"],) * 2, (1, 1)
        pads = resolve_padding(p["padding"], x.shape[1:3], w.shape[:2], stride)

        def step():
            y = table.conv2d_forward(x, w, stride, pads, dilation)
            if p["c_in"] > 3:  # a first layer needs no input gradient (torch skips it too)
                table.conv2d_backward_data(y, w, x.shape, stride, pads, dilation)
            table.conv2d_backward_filter(x, y, w.shape, stride, pads, dilation)
        return step
    x = rng.standard_normal(p["shape"], dtype=np.float32)
    c = x.shape[-1]
    if kind == "maxpool":
        def step():
            y, argmax = table.maxpool2d_forward(x, (2, 2), (2, 2), ((0, 0), (0, 0)))
            table.maxpool2d_backward(y, argmax, x.shape, (2, 2), (2, 2), ((0, 0), (0, 0)))
        return step
    if kind == "batchnorm":
        gamma, beta = np.ones(c, np.float32), np.zeros(c, np.float32)

        def step():
            y, mean, _, inv_std = table.batchnorm_forward_train(x, gamma, beta, 1e-3)
            table.batchnorm_backward(y, x, gamma, mean, inv_std)
        return step
    if kind == "bias_relu":
        bias = np.zeros(c, np.float32)

        def step():
            y = table.bias_relu_forward(x, bias)
            table.relu_backward(x, y)
        return step
    labels = rng.integers(0, c, x.shape[0])

    def step():
        loss, probabilities = table.softmax_cross_entropy_forward(x, labels)
        table.softmax_cross_entropy_backward(probabilities, labels, loss)
    return step


def torch_step(torch, kind, p):
    """The same layer in torch (NCHW, autograd): forward, then backward of every gradient deepcore computes."""
    F = torch.nn.functional
    if kind == "conv":
        x = torch.randn(p["batch"], p["c_in"], p["size"], p["size"], requires_grad=p["c_in"] > 3)
        w = torch.randn(p["c_out"], p["c_in"], p["k"], p["k"], requires_grad=True)
        padding = (p["k"] - 1) // 2 if p["padding"] == "same" else 0

        def step():
            y = F.conv2d(x, w, stride=p["stride"], padding=padding)
            y.backward(y.detach())
        return step
    shape = p["shape"] if len(p["shape"]) == 2 else tuple(p["shape"][i] for i in (0, 3, 1, 2))  # NHWC -> NCHW
    c = shape[1]
    x = torch.randn(*shape, requires_grad=True)
    if kind == "maxpool":
        op = lambda: F.max_pool2d(x, 2)
    elif kind == "batchnorm":
        gamma, beta = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
        op = lambda: F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-3)
    elif kind == "bias_relu":
        bias = torch.zeros(c, requires_grad=True)
        view = (1, -1) + (1,) * (len(shape) - 2)
        op = lambda: F.relu(x + bias.view(view))
    else:
        labels = torch.randint(0, c, (shape[0],))
        op = lambda: F.cross_entropy(x, labels, reduction="none")

    def step():
        y = op()
        y.backward(y.detach())
    return step


def time_each(steps, repeats, warmup, budget_s, clock=time.perf_counter, rest_s=0.3):
    """Median seconds per call of each step, timed one step after the other.

    Not interleaved: the idle workers of the previous one's thread pool keep spinning for a while
    (OpenBLAS's for up to ~0.1 s, torch's OpenMP ones too) and would be timed as the next one's load; a
    ``rest_s`` pause lets them sleep. A step stops early once it used ``budget_s``.
    """
    medians = {}
    for name, step in steps.items():
        time.sleep(rest_s)
        for _ in range(warmup):
            step()
        times = []
        while len(times) < repeats and sum(times) <= budget_s:
            start = clock()
            step()
            times.append(clock() - start)
        medians[name] = statistics.median(times)
    return medians


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure each layer this many times and keep the fastest median (drops load bursts)")
    parser.add_argument("--no-reference", action="store_true", help="skip the (slow) NumPy reference")
    parser.add_argument("--only", default="", help="comma-separated substrings of the workloads/labels to run")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: the process's CPU time, which load from other processes barely moves "
                             "(meaningful with --threads 1)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    # torch first: started after numba's OpenMP pool, torch would share its libgomp (and its short spin count)
    import torch
    torch.set_num_threads(args.threads)

    import numba

    from deepcore.backend import cpu_kernels, reference
    from deepcore.backend.kernel_table import KERNEL_NAMES

    numba.set_num_threads(args.threads)
    fast = type("Table", (), {})()
    ref = type("Table", (), {})()
    for name in KERNEL_NAMES:
        setattr(fast, name, staticmethod(cpu_kernels.KERNELS[name]))
        setattr(ref, name, staticmethod(getattr(reference, name)))
    only = [s for s in args.only.split(",") if s]
    rng = np.random.default_rng(0)
    rows = []
    cpu_kernels.KERNELS["relu_backward"](np.ones(4, np.float32), np.ones(4, np.float32))  # start numba's threads
    layer = numba.threading_layer()
    load_before = os.getloadavg()[0]
    print(f"# load average {load_before:.2f}; {_cpu_model()}, "
          f"{os.cpu_count()} CPUs, {args.threads} threads; "
          f"numba {numba.__version__} ({layer} threading layer), torch {torch.__version__}; "
          f"best of {args.rounds} medians of {args.repeats}, {args.clock}-clock ms per forward+backward")
    print(f"| workload | layer | fast | reference | torch | fast/torch | reference/fast |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for workload, label, (kind, params), count in LAYERS:
        if only and not any(s in workload or s in label for s in only):
            continue
        steps = {"fast": deepcore_step(fast, kind, params, rng), "torch": torch_step(torch, kind, params)}
        if not args.no_reference:
            steps["reference"] = deepcore_step(ref, kind, params, rng)
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        rounds = [time_each(steps, args.repeats, args.warmup, 3.0, clock) for _ in range(args.rounds)]
        t = {k: min(r[k] for r in rounds) * 1e3 for k in steps}
        ref_ms = t.get("reference", float("nan"))
        rows.append(dict(workload=workload, layer=label, count=count, **{f"{k}_ms": v for k, v in t.items()}))
        print(f"| {workload} | {label} | {t['fast']:.2f} | {ref_ms:.2f} | {t['torch']:.2f} | "
              f"{t['fast'] / t['torch']:.2f} | {ref_ms / t['fast']:.1f} |", flush=True)
    for workload in dict.fromkeys(r["workload"] for r in rows):
        mine = [r for r in rows if r["workload"] == workload]
        total = {k: sum(r[f"{k}_ms"] * r["count"] for r in mine) for k in ("fast", "torch")}
        print(f"| {workload} | **one training step's kernels** | {total['fast']:.1f} | | {total['torch']:.1f} | "
              f"{total['fast'] / total['torch']:.2f} | |")
    print(f"# load average {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(argv=sys.argv, commit=_commit(), cpu=_cpu_model(), cpus=os.cpu_count(), rounds=args.rounds,
                           load_average=[load_before, os.getloadavg()[0]], threads=args.threads, clock=args.clock,
                           threading_layer=layer, torch=torch.__version__, numba=numba.__version__, rows=rows),
                      f, indent=1)


def _commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip() or None
    except OSError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
