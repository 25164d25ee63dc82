"""Everything a session with a GPU should run for the CUDA kernels, in one go (< 8 minutes).

    PYTHONPATH=. python3 benchmarks/gpu_check.py [--out DIR] [--skip-tests] [--skip-bench] [--repeats N]

1. ``pytest -m gpu`` with ``DEEPCORE_REQUIRE_GPU=1`` (a failed GPU probe fails
   instead of skipping), in two runs with their own time limits: first
   ``tests/backend/test_cuda_kernels.py`` (kernel parity, gradients vs CPU,
   model parity, memory), then every other gpu-marked test of the suite.
2. Microbenchmarks of the CUDA kernels (first, compiling call excluded; median
   of ``--repeats`` timed with CUDA events):
   - memory-bound kernels at batch 128 of 32x32x64: GB/s of their compulsory
     traffic (each input read once, each output written once) as a fraction of
     the copy bandwidth measured in the same run (target: >= 70%);
   - 3x3 convolutions of ResNet-20's shapes at batch 128: forward, backward
     data, backward filter in GFLOP/s, the im2col share of the forward (what an
     implicit GEMM could save at most), and the time ratio against cuDNN
     through PyTorch when torch has CUDA (target: fwd+bwd within 1.5x).
3. ``deepcore bench models --device gpu --compare torch`` (the five workloads,
   3 repeats, its own time limit): its JSON and plot go to DIR beside ours, as
   ``gpu-<date>-<commit>.json/.png`` for ``benchmarks/results/``.
4. One JSON file, ``gpu_check_<device>_<commit>.json``, in DIR (``--out``, else
   ``$OUT``, else ``benchmarks/results/``) with the device name, CUDA, CuPy and
   driver versions, the git commit and a hash of every ``kernels/*.cu`` (a
   result verifies exactly the sources it names).

Exit status: 0 when the tests pass (or were skipped), 1 when they fail, 2 without a usable GPU.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from deepcore.backend import gpu_probe

ROOT = Path(__file__).resolve().parents[1]
TEST_TIMEOUT_S = 120  # per pytest run
BENCH_MODELS_TIMEOUT_S = 150  # deepcore bench models on the GPU, torch beside it
KERNEL_TESTS = "tests/backend/test_cuda_kernels.py"
MEMORY_BATCH_SHAPE = (128, 32, 32, 64)
RESNET20_CONVS = ((32, 32, 16), (16, 16, 32), (8, 8, 64))  # per-image (H, W, C); 3x3, stride 1, 'same', C -> C
CONV_BATCH = 128
OPTIMIZER_PARAMETERS = 11_689_512  # ResNet-18's parameter count
SOFTMAX_SHAPE = (4096, 1000)  # (rows, classes)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_out = Path(os.environ["OUT"]) if os.environ.get("OUT") else ROOT / "benchmarks" / "results"
    parser.add_argument("--out", type=Path, default=default_out, help="folder for the JSON result")
    parser.add_argument("--skip-tests", action="store_true", help="do not run pytest -m gpu")
    parser.add_argument("--skip-bench", action="store_true", help="do not run the microbenchmarks")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per benchmark (median reported)")
    parser.add_argument("--skip-models", action="store_true", help="do not run deepcore bench models on the GPU")
    return parser.parse_args(argv)


def git_info():
    def git(*args):
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else None
    status = git("status", "--porcelain", "--", "kernels", "deepcore/backend")
    return {"commit": git("rev-parse", "HEAD") or "unknown", "kernels_or_backend_modified": bool(status)}


def kernel_sources():
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            for path in sorted((ROOT / "kernels").glob("*.cu"))}


def environment():
    import cupy
    properties = cupy.cuda.runtime.getDeviceProperties(0)
    name = properties["name"]
    return {
        "device": name.decode() if isinstance(name, bytes) else name,
        "compute_capability": f"{properties['major']}.{properties['minor']}",
        "memory_gib": round(properties["totalGlobalMem"] / 2**30, 1),
        "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
        "cupy": cupy.__version__,
    }


def summarize_pytest(output: str) -> dict:
    """Counts from pytest's final line, e.g. '12 passed, 3 skipped in 4.5s'."""
    lines = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    if not lines:
        return {}
    return {kind: int(count) for count, kind in
            re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)", lines[-1])}


def run_tests(out: Path, name: str, targets: list) -> dict:
    command = [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider",
               f"--junitxml={out / f'gpu_tests_{name}.xml'}", *targets]
    env = {**os.environ, "DEEPCORE_REQUIRE_GPU": "1", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TEST_TIMEOUT_S)
        returncode, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as error:
        returncode, output = "timeout", (error.stdout or b"").decode(errors="replace")
    return {"command": " ".join(command[1:]), "returncode": returncode, "summary": summarize_pytest(output),
            "seconds": round(time.perf_counter() - start, 1), "output_tail": output[-4000:]}


def run_bench_models(out: Path, commit: str) -> dict:
    """``deepcore bench models`` on the GPU against torch; its JSON and plot land in ``out``."""
    stem = out / f"gpu-{time.strftime('%Y-%m-%d')}-{commit[:7]}"
    command = [sys.executable, "-m", "deepcore", "bench", "models", "--device", "gpu", "--compare", "torch",
               "--repeats", "3", "--json", f"{stem}.json", "--plot", f"{stem}.png"]
    start = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                capture_output=True, text=True, timeout=BENCH_MODELS_TIMEOUT_S)
        returncode, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as error:
        returncode, output = "timeout", (error.stdout or b"").decode(errors="replace")
    return {"command": " ".join(command[1:]), "returncode": returncode, "json": f"{stem.name}.json",
            "seconds": round(time.perf_counter() - start, 1), "output_tail": output[-4000:]}


# ------------------------------------------------------------------------------------------------- timing

def gigabytes_per_second(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / 1e9


def conv_flops(x_shape, w_shape, y_shape) -> float:
    """Multiply-adds of a direct convolution, two FLOPs each: 2 * |y| * kh * kw * C_in."""
    kh, kw, c_in, _ = w_shape
    return 2 * math.prod(y_shape) * kh * kw * c_in


def median_seconds(fn, repeats: int) -> float:
    """Median over ``repeats`` calls timed with CUDA events, after one untimed (compiling) call."""
    import cupy
    fn()
    cupy.cuda.Device().synchronize()
    times = []
    for _ in range(repeats):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return float(np.median(times))


def copy_bandwidth(repeats: int) -> float:
    """Device-to-device copy of 256 MiB: bytes read + written per second (the memory-bound roofline)."""
    import cupy
    source = cupy.ones(64 * 2**20, dtype=np.float32)
    target = cupy.empty_like(source)
    seconds = median_seconds(lambda: cupy.copyto(target, source), repeats)
    return gigabytes_per_second(2 * source.nbytes, seconds)


def _nbytes(*arrays):
    return sum(a.nbytes for a in arrays)


def memory_bound_cases():
    """(name, call, compulsory bytes) for each memory-bound kernel at MEMORY_BATCH_SHAPE."""
    import cupy
    from deepcore.backend import cuda_kernels as k
    rng = np.random.default_rng(0)
    x = cupy.asarray(rng.standard_normal(MEMORY_BATCH_SHAPE, dtype=np.float32))
    channels = x.shape[-1]
    gamma, beta = cupy.ones(channels, np.float32), cupy.zeros(channels, np.float32)
    pool, stride, padding = (2, 2), (2, 2), ((0, 0), (0, 0))
    y, argmax = k.maxpool2d_forward(x, pool, stride, padding)
    bn_y, mean, variance, inv_std = k.batchnorm_forward_train(x, gamma, beta, 1e-3)
    rows, classes = SOFTMAX_SHAPE
    logits = cupy.asarray(rng.standard_normal(SOFTMAX_SHAPE, dtype=np.float32))
    labels = cupy.asarray(rng.integers(0, classes, rows).astype(np.int32))
    loss, probabilities = k.softmax_cross_entropy_forward(logits, labels)
    weights = [cupy.asarray(rng.standard_normal(OPTIMIZER_PARAMETERS, dtype=np.float32))]
    grads, velocity = [w.copy() for w in weights], [cupy.zeros_like(w) for w in weights]
    second = [cupy.zeros_like(w) for w in weights]
    parameters = f"{OPTIMIZER_PARAMETERS / 1e6:.1f}M parameters"
    return [
        ("maxpool2d_forward 2x2/2", lambda: k.maxpool2d_forward(x, pool, stride, padding), _nbytes(x, y, argmax)),
        ("maxpool2d_backward 2x2/2", lambda: k.maxpool2d_backward(y, argmax, x.shape, pool, stride, padding),
         _nbytes(y, argmax, x)),
        ("avgpool2d_forward 2x2/2", lambda: k.avgpool2d_forward(x, pool, stride, padding), _nbytes(x, y)),
        ("avgpool2d_backward 2x2/2", lambda: k.avgpool2d_backward(y, x.shape, pool, stride, padding), _nbytes(y, x)),
        ("batchnorm_forward_train", lambda: k.batchnorm_forward_train(x, gamma, beta, 1e-3), _nbytes(x, x)),
        ("batchnorm_relu_forward_train", lambda: k.batchnorm_relu_forward_train(x, gamma, beta, 1e-3),
         _nbytes(x, x)),
        ("batchnorm_forward_infer", lambda: k.batchnorm_forward_infer(x, gamma, beta, mean, variance, 1e-3),
         _nbytes(x, x)),
        ("batchnorm_backward", lambda: k.batchnorm_backward(x, x, gamma, mean, inv_std), _nbytes(x, x, x)),
        ("batchnorm_relu_backward", lambda: k.batchnorm_relu_backward(x, bn_y, x, gamma, mean, inv_std),
         _nbytes(x, x, x, x)),
        ("bias_relu_forward", lambda: k.bias_relu_forward(x, beta), _nbytes(x, x)),
        ("relu_backward", lambda: k.relu_backward(x, bn_y), _nbytes(x, x, x)),
        (f"softmax_forward {rows}x{classes}", lambda: k.softmax_forward(logits), _nbytes(logits, probabilities)),
        (f"softmax_cross_entropy_forward {rows}x{classes}",
         lambda: k.softmax_cross_entropy_forward(logits, labels), _nbytes(logits, labels, loss, probabilities)),
        (f"softmax_cross_entropy_backward {rows}x{classes}",
         lambda: k.softmax_cross_entropy_backward(probabilities, labels, loss),
         _nbytes(probabilities, labels, loss, probabilities)),
        (f"sgd_momentum_update {parameters}", lambda: k.sgd_momentum_update(weights, grads, velocity, 1e-3, 0.9),
         5 * _nbytes(*weights)),  # read w, g, v; write w, v
        (f"adam_update {parameters}",
         lambda: k.adam_update(weights, grads, velocity, second, 1e-3, 0.9, 0.999, 1e-7),
         7 * _nbytes(*weights)),  # read w, g, m, v; write w, m, v
    ]


def bench_memory_bound(repeats: int, copy_gbps: float) -> list:
    results = []
    for name, call, nbytes in memory_bound_cases():
        seconds = median_seconds(call, repeats)
        gbps = gigabytes_per_second(nbytes, seconds)
        results.append({"kernel": name, "ms": round(seconds * 1e3, 4), "GB/s": round(gbps, 1),
                        "fraction_of_copy": round(gbps / copy_gbps, 3)})
    return results


def _torch_conv_seconds(x_shape, w_shape, repeats):
    """cuDNN forward and forward+backward time through PyTorch (channels_last), or None without torch CUDA."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False  # deepcore computes in float32; compare like with like
    torch.backends.cuda.matmul.allow_tf32 = False
    n, h, w, c = x_shape
    x = torch.randn(n, c, h, w, device="cuda").to(memory_format=torch.channels_last).requires_grad_()
    weight = torch.randn(w_shape[3], c, w_shape[0], w_shape[1], device="cuda").requires_grad_()
    gy = torch.randn(n, w_shape[3], h, w, device="cuda").to(memory_format=torch.channels_last)

    def timed(fn):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop) / 1e3)
        return float(np.median(times))

    conv = torch.nn.functional.conv2d
    forward = timed(lambda: conv(x, weight, padding=1))
    both = timed(lambda: torch.autograd.grad(conv(x, weight, padding=1), (x, weight), gy))
    return {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(), "forward_s": forward,
            "forward_backward_s": both}


def bench_convolutions(repeats: int) -> list:
    import cupy
    from deepcore.backend import cuda_kernels as k
    rng = np.random.default_rng(0)
    results = []
    for h, w, c in RESNET20_CONVS:
        x_shape, w_shape = (CONV_BATCH, h, w, c), (3, 3, c, c)
        x = cupy.asarray(rng.standard_normal(x_shape, dtype=np.float32))
        weights = cupy.asarray(rng.standard_normal(w_shape, dtype=np.float32))
        args = ((1, 1), ((1, 1), (1, 1)), (1, 1))
        gy = k.conv2d_forward(x, weights, *args)
        flops = conv_flops(x_shape, w_shape, gy.shape)
        geometry = k.ConvGeometry("im2col", x_shape, w_shape, *args)
        seconds = {
            "forward": median_seconds(lambda: k.conv2d_forward(x, weights, *args), repeats),
            "backward_data": median_seconds(lambda: k.conv2d_backward_data(gy, weights, x_shape, *args), repeats),
            "backward_filter": median_seconds(lambda: k.conv2d_backward_filter(x, gy, w_shape, *args), repeats),
            "im2col": median_seconds(lambda: geometry.im2col(x), repeats),
        }
        entry = {"shape": f"{CONV_BATCH}x{h}x{w}x{c} 3x3 -> {c}", "GFLOP": round(flops / 1e9, 3)}
        for part, s in seconds.items():
            entry[f"{part}_ms"] = round(s * 1e3, 4)
            if part != "im2col":
                entry[f"{part}_GFLOP/s"] = round(flops / s / 1e9, 1)
        entry["im2col_share_of_forward"] = round(seconds["im2col"] / seconds["forward"], 3)
        total = seconds["forward"] + seconds["backward_data"] + seconds["backward_filter"]
        torch_times = _torch_conv_seconds(x_shape, w_shape, repeats)
        if torch_times:
            entry["cudnn"] = {key: value for key, value in torch_times.items() if not key.endswith("_s")}
            entry["cudnn_forward_ms"] = round(torch_times["forward_s"] * 1e3, 4)
            entry["cudnn_forward_backward_ms"] = round(torch_times["forward_backward_s"] * 1e3, 4)
            entry["forward_time_vs_cudnn"] = round(seconds["forward"] / torch_times["forward_s"], 2)
            entry["forward_backward_time_vs_cudnn"] = round(total / torch_times["forward_backward_s"], 2)
        results.append(entry)
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    git = git_info()
    usable, reason = gpu_probe()
    report = {"script": "benchmarks/gpu_check.py", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "python": platform.python_version(), "numpy": np.__version__, "git": git,
              "kernel_sources": kernel_sources(), "gpu": {"usable": usable, "reason": reason}}
    status = 0
    if usable:
        report["environment"] = environment()
        if not args.skip_tests:
            report["tests"] = {
                "cuda_kernels": run_tests(args.out, "cuda_kernels", [KERNEL_TESTS]),
                "other_gpu_tests": run_tests(args.out, "other", ["tests", f"--deselect={KERNEL_TESTS}"]),
            }
            status = 0 if all(run["returncode"] == 0 for run in report["tests"].values()) else 1
        if not args.skip_bench:
            copy_gbps = copy_bandwidth(args.repeats)
            report["benchmarks"] = {"copy_GB/s": round(copy_gbps, 1),
                                    "memory_bound": bench_memory_bound(args.repeats, copy_gbps),
                                    "conv": bench_convolutions(args.repeats)}
        if not args.skip_models:
            report["bench_models"] = run_bench_models(args.out, git["commit"])
    else:
        status = 2
        print(f"gpu_check: no usable GPU ({reason}); writing the environment only", file=sys.stderr)
    device = report.get("environment", {}).get("device", "nogpu")
    slug = re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")
    path = args.out / f"gpu_check_{slug}_{git['commit'][:10]}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"gpu_check: wrote {path}")
    for name, run in report.get("tests", {}).items():
        print(f"gpu_check: {name} tests {run['summary']} (exit {run['returncode']})")
    return status


if __name__ == "__main__":
    sys.exit(main())
