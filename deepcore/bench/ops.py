"""``deepcore bench ops``: each kernel of the device's kernel table timed against the device's own peak.

The peak is measured in the same run: a large float32 GEMM (``xp.matmul``,
cuBLAS on the GPU; on the CPU the faster of NumPy's BLAS and the kernel
table's matmul, MKL with the ``mkl`` extra) for FLOP/s, and a large
array copy for memory bandwidth. Compute-bound kernels (convolutions) report
GFLOP/s as a fraction of the GEMM; memory-bound ones report GB/s of their
compulsory traffic (every input read once, every output written once) as a
fraction of the copy. A fraction is the kernel's median over the peak's
best repeat. Each case calls the kernel-table entry directly, so the
reported path (``numba``, ``cuda``, ``reference``) is exactly what ran.
"""
from __future__ import annotations

import dataclasses
import functools

from ..backend import Device, kernel_table
from ..ops.conv import resolve_padding
from .timing import measure, synchronizer

# images per call: convolutions small enough to run in seconds on a CPU; memory-bound ops large enough
# that their arrays (tens of MB on the CPU) do not sit in the caches
DEFAULT_BATCH = {"cpu": {"conv": 2, "memory": 8}, "gpu": {"conv": 64, "memory": 128}}
PEAK_SIZES = {"cpu": {"gemm": 2048, "copy": 16 * 2**20}, "gpu": {"gemm": 8192, "copy": 256 * 2**20}}
OPTIMIZER_PARAMETERS = 11_689_512  # ResNet-18's parameter count: one optimizer step over a mid-size model

# (label, per-sample input (H, W, C), out channels, kernel, stride): ResNet (ImageNet and CIFAR) and VGG-16
CONV_SHAPES = (
    ("resnet 3x3 56x56x64->64", (56, 56, 64), 64, 3, 1),
    ("resnet 3x3/2 56x56x128->128", (56, 56, 128), 128, 3, 2),
    ("resnet 1x1 56x56x64->256", (56, 56, 64), 256, 1, 1),
    ("resnet20 3x3 32x32x16->16", (32, 32, 16), 16, 3, 1),
    ("vgg16 3x3 112x112x128->128", (112, 112, 128), 128, 3, 1),
    ("vgg16 3x3 28x28x512->512", (28, 28, 512), 512, 3, 1),
)

OP_FAMILIES = {
    "conv": ("conv2d_forward", "conv2d_backward_data", "conv2d_backward_filter"),
    "pool": ("maxpool2d_forward", "maxpool2d_backward"),
    "batchnorm": ("batchnorm_forward_train", "batchnorm_backward"),
    "activation": ("bias_relu_forward", "relu_backward"),
    "softmax": ("softmax_cross_entropy_forward", "softmax_cross_entropy_backward"),
    "optimizer": ("sgd_momentum_update",),
}
OP_NAMES = tuple(name for names in OP_FAMILIES.values() for name in names)


@dataclasses.dataclass
class Case:
    op: str
    label: str
    shape: tuple
    call: object
    work: float  # FLOPs or bytes per call
    unit: str  # "flop" or "byte"
    path: str


def measure_peaks(device_name: str, warmup: int, repeats: int) -> dict:
    """Best GEMM FLOP/s and copy bytes/s of this device, measured now."""
    xp = Device(device_name).xp
    sync = synchronizer(device_name)
    sizes = PEAK_SIZES[device_name]
    n = sizes["gemm"]
    a = xp.ones((n, n), dtype=xp.float32)
    b = xp.ones((n, n), dtype=xp.float32)
    out = xp.empty((n, n), dtype=xp.float32)
    gemm = measure(functools.partial(xp.matmul, a, b, out=out), sync, max(warmup, 1), None, repeats)
    if device_name == "cpu":  # the kernels' own GEMM (MKL with the mkl extra) can beat NumPy's BLAS
        ours = measure(functools.partial(kernel_table("cpu").matmul, a, b), sync, max(warmup, 1), None, repeats)
        gemm = min(gemm, ours, key=lambda timing: min(timing.seconds_per_call))
    source = xp.ones(sizes["copy"], dtype=xp.float32)
    target = xp.empty_like(source)
    copier = _parallel_copy if device_name == "cpu" else xp.copyto
    copy = measure(functools.partial(copier, target, source), sync, max(warmup, 1), None, repeats)
    return {
        "gemm": {"shape": [n, n, n], **gemm.as_record(), "flops_per_second": gemm.rate(2.0 * n**3)},
        "copy": {"bytes": 2 * source.nbytes, **copy.as_record(),
                 "bytes_per_second": copy.rate(2.0 * source.nbytes)},
    }


@functools.lru_cache(maxsize=1)
def _parallel_copy_kernel():
    import numba

    @numba.njit(parallel=True, cache=True)
    def copy(target, source):
        for i in numba.prange(source.size):
            target[i] = source[i]

    return copy


def _parallel_copy(target, source):
    """A copy on every numba thread: NumPy's copy uses one core, which would understate the CPU's bandwidth."""
    _parallel_copy_kernel()(target, source)


def op_cases(device_name: str, batch: int | None, selected: tuple):
    """Yield the benchmark cases of the ops named in ``selected``, arrays already on the device."""
    xp = Device(device_name).xp
    table = kernel_table(device_name)
    rng = _Random(xp)
    batches = DEFAULT_BATCH[device_name] if batch is None else {"conv": batch, "memory": batch}
    yield from _conv_cases(xp, table, rng, batches["conv"], selected)
    for builder in (_pool_cases, _batchnorm_cases, _activation_cases, _softmax_cases):
        yield from builder(xp, table, rng, batches["memory"], selected)
    if "sgd_momentum_update" in selected:
        yield _optimizer_case(table, rng)


class _Random:
    def __init__(self, xp):
        import numpy as np

        self.xp, self.generator = xp, np.random.default_rng(0)

    def normal(self, shape):
        return self.xp.asarray(self.generator.standard_normal(shape, dtype="float32"))

    def labels(self, count, classes):
        return self.xp.asarray(self.generator.integers(0, classes, count))


def _bytes(*arrays):
    return float(sum(a.nbytes for a in arrays))


def _conv_cases(xp, table, rng, batch, selected):
    wanted = [op for op in OP_FAMILIES["conv"] if op in selected]
    if not wanted:
        return
    for label, (h, w_, c), out_channels, k, s in CONV_SHAPES:
        x = rng.normal((batch, h, w_, c))
        w = rng.normal((k, k, c, out_channels))
        stride, dilation = (s, s), (1, 1)
        padding = resolve_padding("same", (h, w_), (k, k), stride)
        y = table.conv2d_forward(x, w, stride, padding, dilation)
        flops = 2.0 * y.size * k * k * c  # one multiply-add per output per filter tap and input channel
        calls = {
            "conv2d_forward": functools.partial(table.conv2d_forward, x, w, stride, padding, dilation),
            "conv2d_backward_data": functools.partial(table.conv2d_backward_data, y, w, x.shape, stride,
                                                      padding, dilation),
            "conv2d_backward_filter": functools.partial(table.conv2d_backward_filter, x, y, w.shape, stride,
                                                        padding, dilation),
        }
        for op in wanted:
            yield Case(op, label, x.shape, calls[op], flops, "flop", table.paths[op])


def _pool_cases(xp, table, rng, batch, selected):
    x = rng.normal((batch, 112, 112, 64))  # VGG-16 pool1
    pool = stride = (2, 2)
    padding = ((0, 0), (0, 0))
    y, argmax = table.maxpool2d_forward(x, pool, stride, padding)
    label = "max 2x2/2 112x112x64"
    if "maxpool2d_forward" in selected:
        yield Case("maxpool2d_forward", label, x.shape,
                   functools.partial(table.maxpool2d_forward, x, pool, stride, padding),
                   _bytes(x, y, argmax), "byte", table.paths["maxpool2d_forward"])
    if "maxpool2d_backward" in selected:
        yield Case("maxpool2d_backward", label, x.shape,
                   functools.partial(table.maxpool2d_backward, y, argmax, x.shape, pool, stride, padding),
                   _bytes(y, argmax, x), "byte", table.paths["maxpool2d_backward"])


def _batchnorm_cases(xp, table, rng, batch, selected):
    x = rng.normal((batch, 56, 56, 256))
    gamma, beta = xp.ones(256, dtype=xp.float32), xp.zeros(256, dtype=xp.float32)
    label = "train 56x56x256"
    if "batchnorm_forward_train" in selected:
        yield Case("batchnorm_forward_train", label, x.shape,
                   functools.partial(table.batchnorm_forward_train, x, gamma, beta, 1e-3),
                   _bytes(x, x), "byte", table.paths["batchnorm_forward_train"])
    if "batchnorm_backward" in selected:
        _, mean, _, inv_std = table.batchnorm_forward_train(x, gamma, beta, 1e-3)
        yield Case("batchnorm_backward", label, x.shape,
                   functools.partial(table.batchnorm_backward, x, x, gamma, mean, inv_std),
                   _bytes(x, x, x), "byte", table.paths["batchnorm_backward"])


def _activation_cases(xp, table, rng, batch, selected):
    x = rng.normal((batch, 56, 56, 256))
    bias = rng.normal((256,))
    label = "56x56x256"
    if "bias_relu_forward" in selected:
        yield Case("bias_relu_forward", label, x.shape, functools.partial(table.bias_relu_forward, x, bias),
                   _bytes(x, x), "byte", table.paths["bias_relu_forward"])
    if "relu_backward" in selected:
        y = table.bias_relu_forward(x, bias)
        yield Case("relu_backward", label, x.shape, functools.partial(table.relu_backward, x, y),
                   _bytes(x, y, x), "byte", table.paths["relu_backward"])


def _softmax_cases(xp, table, rng, batch, selected):
    classes = 1000
    logits = rng.normal((batch * 256, classes))
    labels = rng.labels(batch * 256, classes)
    label = f"{batch * 256} rows x {classes} classes"
    if "softmax_cross_entropy_forward" in selected:
        yield Case("softmax_cross_entropy_forward", label, logits.shape,
                   functools.partial(table.softmax_cross_entropy_forward, logits, labels),
                   _bytes(logits, logits, labels), "byte", table.paths["softmax_cross_entropy_forward"])
    if "softmax_cross_entropy_backward" in selected:
        _, probabilities = table.softmax_cross_entropy_forward(logits, labels)
        g_loss = xp.ones(len(labels), dtype=xp.float32)
        yield Case("softmax_cross_entropy_backward", label, logits.shape,
                   functools.partial(table.softmax_cross_entropy_backward, probabilities, labels, g_loss),
                   _bytes(probabilities, probabilities, labels), "byte",
                   table.paths["softmax_cross_entropy_backward"])


def _optimizer_case(table, rng):
    """The fused SGD-momentum update (what ``dc.optimizers.SGD(momentum=0.9)`` runs) over one flat weight
    vector: v = m v - lr g; w += v."""
    w, g, velocity = (rng.normal((OPTIMIZER_PARAMETERS,)) for _ in range(3))
    return Case("sgd_momentum_update", f"{OPTIMIZER_PARAMETERS / 1e6:.1f}M parameters", w.shape,
                functools.partial(table.sgd_momentum_update, [w], [g], [velocity], 0.01, 0.9), 5.0 * g.nbytes,
                "byte", table.paths["sgd_momentum_update"])


def case_count(selected: tuple) -> int:
    return sum(len(CONV_SHAPES) if op in OP_FAMILIES["conv"] else 1 for op in selected)


def run_ops(device_name: str, batch: int | None, selected: tuple, warmup: int, steps: int | None,
            repeats: int, progress) -> tuple[dict, list[dict]]:
    """(peaks, one record per case) for one device."""
    peaks = measure_peaks(device_name, warmup, repeats)
    sync = synchronizer(device_name)
    records = []
    for case in op_cases(device_name, batch, selected):
        progress.set_postfix_str(f"{device_name} {case.op} {case.label}")
        timing = measure(case.call, sync, warmup, steps, repeats)
        peak_key = ("gemm", "flops_per_second") if case.unit == "flop" else ("copy", "bytes_per_second")
        peak = peaks[peak_key[0]][peak_key[1]]["max"]
        rate = timing.rate(case.work)
        records.append({
            "op": case.op, "case": case.label, "shape": list(case.shape), "device": device_name,
            "path": case.path, **timing.as_record(),
            "work_per_call": case.work, "unit": "GFLOP/s" if case.unit == "flop" else "GB/s",
            "rate": {key: value / 1e9 for key, value in rate.items()},
            "fraction_of_peak": rate["median"] / peak, "peak": peak_key[0],
        })
        progress.update(1)
    return peaks, records
