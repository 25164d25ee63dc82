"""The CUDA kernels (``deepcore/backend/cuda_kernels.py`` over ``kernels/*.cu``) against the NumPy reference.

GPU tests (marker ``gpu``, skipped without a usable GPU; ``DEEPCORE_REQUIRE_GPU=1``
makes that a failure): parity of every kernel with ``reference.py`` on shapes
with odd sizes, batch 1, stride > kernel, 'same'/'valid' and asymmetric padding,
dilation; gradients of the ops through the GPU path against the CPU path in
float64; whole models trained 3 steps on CPU and GPU from the same weights;
CuPy's memory pool flat over 50 training steps. Each parity test also checks that the CUDA kernel ran, not
the reference fallback. The tests at the end (no marker) cover what needs no GPU.
"""
import importlib.util
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest

import deepcore as dc
from deepcore.backend import cuda_kernels, cuda_modules, reference
from deepcore.backend.kernel_table import KERNEL_NAMES
from deepcore.ops.conv import resolve_padding

ROOT = Path(__file__).resolve().parents[2]
gpu = pytest.mark.gpu


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture
def cp(caplog):
    """CuPy, with the kernel log captured: ``ran_cuda`` checks no wrapper fell back to the reference."""
    import cupy
    caplog.set_level(logging.DEBUG, logger="deepcore.kernels")
    return cupy


def ran_cuda(caplog):
    fallbacks = [r.getMessage() for r in caplog.records if "-> reference" in r.getMessage()]
    assert not fallbacks, f"the CUDA wrapper ran the reference instead: {fallbacks}"


def to_host(value):
    if isinstance(value, (tuple, list)):
        return type(value)(to_host(v) for v in value)
    return value.get() if hasattr(value, "get") else value


def to_gpu(cp, values):
    return [cp.asarray(v) if isinstance(v, np.ndarray) else v for v in values]


def check_parity(cp, caplog, name, *args, rtol=1e-5, atol=1e-5, reference_function=None):
    """KERNELS[name] on the GPU vs the reference on the host, same float32 inputs; returns the GPU result."""
    expected = (reference_function or getattr(reference, name))(*args)
    got = cuda_kernels.KERNELS[name](*to_gpu(cp, args))
    ran_cuda(caplog)
    got_host = to_host(got)
    pairs = list(zip(got_host, expected)) if isinstance(expected, tuple) else [(got_host, expected)]
    for i, (g, e) in enumerate(pairs):
        assert (g.shape, g.dtype) == (e.shape, e.dtype), f"{name} output {i}"
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"{name} output {i}")
    return got


def normal(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------------------------------------- convolution

# (x shape, w shape, strides, padding: 'same' | 'valid' | explicit, dilation)
CONV_CASES = [
    ((1, 5, 7, 3), (3, 3, 3, 4), (1, 1), "same", (1, 1)),  # batch 1, odd sizes
    ((2, 9, 8, 5), (3, 3, 5, 6), (2, 2), "valid", (1, 1)),
    ((3, 7, 7, 2), (2, 2, 2, 3), (3, 3), "valid", (1, 1)),  # stride > kernel
    ((2, 11, 10, 3), (3, 3, 3, 4), (1, 1), "same", (2, 2)),  # dilation
    ((2, 7, 9, 3), (3, 2, 3, 5), (2, 1), "same", (1, 2)),  # rectangular everything
    ((4, 6, 6, 8), (1, 1, 8, 5), (1, 1), "valid", (1, 1)),  # 1x1: no im2col
    ((2, 8, 8, 3), (1, 1, 3, 4), (2, 2), "valid", (1, 1)),  # strided 1x1
    ((2, 5, 5, 1), (5, 5, 1, 2), (1, 1), "valid", (1, 1)),  # kernel covers the image
    ((3, 6, 5, 4), (3, 3, 4, 2), (1, 2), ((1, 2), (0, 3)), (1, 1)),  # asymmetric explicit padding
    ((5, 28, 28, 1), (5, 5, 1, 20), (1, 1), "valid", (1, 1)),  # the seed CNN's first layer
    ((2, 32, 32, 16), (3, 3, 16, 16), (1, 1), "same", (1, 1)),  # ResNet-20's first stage
]


def conv_args(rng, x_shape, w_shape, strides, padding, dilation):
    if isinstance(padding, str):
        padding = resolve_padding(padding, x_shape[1:3], w_shape[:2], strides, dilation)
    return normal(rng, *x_shape), normal(rng, *w_shape), strides, padding, dilation


def check_conv(cp, caplog, rng, case):
    x, w, strides, padding, dilation = conv_args(rng, *case)
    y = check_parity(cp, caplog, "conv2d_forward", x, w, strides, padding, dilation, rtol=1e-4, atol=1e-4)
    gy = normal(rng, *y.shape)
    check_parity(cp, caplog, "conv2d_backward_data", gy, w, x.shape, strides, padding, dilation, rtol=1e-4,
                 atol=1e-4)
    check_parity(cp, caplog, "conv2d_backward_filter", x, gy, w.shape, strides, padding, dilation, rtol=1e-4,
                 atol=1e-3)


@gpu
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_forward_and_backward(cp, caplog, rng, case):
    check_conv(cp, caplog, rng, case)


@gpu
def test_conv2d_in_batch_chunks(cp, caplog, rng, monkeypatch):
    monkeypatch.setattr(cuda_kernels, "COLS_BUFFER_ELEMENTS", 2 * 6 * 6 * 27)  # 5 images in chunks of 2
    check_conv(cp, caplog, rng, ((5, 8, 8, 3), (3, 3, 3, 4), (1, 1), "valid", (1, 1)))


@gpu
@pytest.mark.parametrize("relu", [True, False])
def test_conv2d_bias_relu_epilogue(cp, caplog, rng, relu):
    x, w, strides, padding, dilation = conv_args(rng, (2, 9, 7, 3), (3, 3, 3, 5), (1, 1), "same", (1, 1))
    bias = normal(rng, 5)
    check_parity(cp, caplog, "conv2d_bias_relu_forward", x, w, bias, strides, padding, dilation, relu, rtol=1e-4,
                 atol=1e-4)


# ------------------------------------------------------------------------------------------------- pooling

# (x shape, pool, strides, padding)
POOL_CASES = [
    ((1, 5, 7, 3), (2, 2), (2, 2), "valid"),  # batch 1, odd sizes (last row/column dropped)
    ((2, 7, 7, 4), (3, 3), (2, 2), "same"),  # overlapping windows
    ((2, 9, 8, 3), (2, 2), (3, 3), "valid"),  # stride > pool: pixels in no window
    ((3, 6, 5, 2), (3, 2), (1, 1), "same"),
    ((1, 4, 4, 1), (4, 4), (4, 4), "valid"),  # one window over everything
    ((2, 8, 8, 64), (2, 2), (2, 2), "valid"),
    ((2, 5, 6, 3), (3, 3), (2, 1), ((2, 2), (1, 2))),  # explicit padding, some windows padding-heavy
]


def pool_args(rng, x_shape, pool, strides, padding, ties=False):
    if isinstance(padding, str):
        padding = resolve_padding(padding, x_shape[1:3], pool, strides)
    x = rng.integers(0, 3, x_shape).astype(np.float32) if ties else normal(rng, *x_shape)
    return x, pool, strides, padding


@gpu
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_maxpool2d(cp, caplog, rng, case, ties):
    x, pool, strides, padding = pool_args(rng, *case, ties=ties)
    y, argmax = check_parity(cp, caplog, "maxpool2d_forward", x, pool, strides, padding, rtol=0, atol=0)
    gy = normal(rng, *y.shape)
    _, reference_argmax = reference.maxpool2d_forward(x, pool, strides, padding)
    check_parity(cp, caplog, "maxpool2d_backward", gy, reference_argmax, x.shape, pool, strides, padding, rtol=0,
                 atol=0)


@gpu
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_avgpool2d(cp, caplog, rng, case):
    x, pool, strides, padding = pool_args(rng, *case)
    y = check_parity(cp, caplog, "avgpool2d_forward", x, pool, strides, padding, rtol=1e-6, atol=1e-6)
    check_parity(cp, caplog, "avgpool2d_backward", normal(rng, *y.shape), x.shape, pool, strides, padding, rtol=1e-6,
                 atol=1e-6)


# ------------------------------------------------------------------------------------------------- batch norm

BATCHNORM_SHAPES = [(2, 5, 7, 3), (1, 1, 1, 1), (4, 8, 8, 33), (3, 70), (64, 4, 4, 16), (128, 8, 8, 64), (1000, 2)]


@gpu
@pytest.mark.parametrize("shape", BATCHNORM_SHAPES, ids=str)
def test_batchnorm_train_and_backward(cp, caplog, rng, shape):
    channels = shape[-1]
    x, gamma, beta = normal(rng, *shape) * 3 + 1, normal(rng, channels), normal(rng, channels)
    _, mean, _, inv_std = check_parity(cp, caplog, "batchnorm_forward_train", x, gamma, beta, 1e-3, rtol=1e-4,
                                       atol=1e-4)
    gy = normal(rng, *shape)
    check_parity(cp, caplog, "batchnorm_backward", gy, x, gamma, to_host(mean), to_host(inv_std), rtol=1e-3,
                 atol=1e-3)


@gpu
@pytest.mark.parametrize("shape", [(2, 5, 7, 3), (64, 4, 4, 16), (9, 130)], ids=str)
def test_fused_batchnorm_relu(cp, caplog, rng, shape):
    channels = shape[-1]
    x, gamma, beta = normal(rng, *shape), normal(rng, channels), normal(rng, channels)
    y, mean, variance, inv_std = check_parity(cp, caplog, "batchnorm_relu_forward_train", x, gamma, beta, 1e-3,
                                              rtol=1e-4, atol=1e-4)
    check_parity(cp, caplog, "batchnorm_relu_backward", normal(rng, *shape), to_host(y), x, gamma, to_host(mean),
                 to_host(inv_std), rtol=1e-3, atol=1e-3)
    check_parity(cp, caplog, "batchnorm_relu_forward_infer", x, gamma, beta, to_host(mean), to_host(variance) + 0.5,
                 1e-3, rtol=1e-5, atol=1e-5)


@gpu
def test_batchnorm_statistics_stay_accurate_far_from_zero(cp, caplog, rng):
    """One pass (Welford + Chan) keeps the variance of data with mean 1e4 and std 1; naive sums would not."""
    x = (1e4 + normal(rng, 256, 8, 8, 4)).astype(np.float32)
    ones, zeros = np.ones(4, np.float32), np.zeros(4, np.float32)
    _, mean, variance, _ = to_host(cuda_kernels.batchnorm_forward_train(cp.asarray(x), cp.asarray(ones),
                                                                        cp.asarray(zeros), 1e-3))
    ran_cuda(caplog)
    exact = x.astype(np.float64).reshape(-1, 4)
    np.testing.assert_allclose(mean, exact.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(variance, exact.var(axis=0), rtol=2e-3)


@gpu
@pytest.mark.parametrize("shape", [(2, 5, 7, 3), (3, 70)], ids=str)
def test_batchnorm_infer(cp, caplog, rng, shape):
    channels = shape[-1]
    args = normal(rng, *shape), normal(rng, channels), normal(rng, channels), normal(rng, channels)
    check_parity(cp, caplog, "batchnorm_forward_infer", *args, rng.random(channels).astype(np.float32) + 0.5, 1e-3)


# ------------------------------------------------------------------------------------------------- activations, softmax

@gpu
@pytest.mark.parametrize("shape", [(4, 5, 6, 7), (5, 13), (1, 1)], ids=str)
def test_bias_relu_and_relu_backward(cp, caplog, rng, shape):
    y = check_parity(cp, caplog, "bias_relu_forward", normal(rng, *shape), normal(rng, shape[-1]), rtol=0, atol=0)
    check_parity(cp, caplog, "relu_backward", normal(rng, *shape), to_host(y), rtol=0, atol=0)
    check_parity(cp, caplog, "add_relu_forward", normal(rng, *shape), normal(rng, *shape), rtol=0, atol=0)
    check_parity(cp, caplog, "add", normal(rng, *shape), normal(rng, *shape), rtol=0, atol=0)


@gpu
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (128, 784, 256), (7, 33, 10)], ids=str)
@pytest.mark.parametrize("relu", [False, True])
def test_dense_forward(cp, caplog, rng, m, k, n, relu):
    check_parity(cp, caplog, "dense_forward", normal(rng, m, k), normal(rng, k, n), normal(rng, n), relu,
                 rtol=1e-4, atol=1e-4)
    check_parity(cp, caplog, "dense_backward", normal(rng, m, k), normal(rng, k, n), normal(rng, m, n), True,
                 rtol=1e-4, atol=1e-4)


@gpu
@pytest.mark.parametrize("rows,classes", [(1, 1), (7, 10), (5, 37), (3, 1000), (300, 2)])
def test_softmax_cross_entropy(cp, caplog, rng, rows, classes):
    logits = normal(rng, rows, classes) * 10
    labels = rng.integers(0, classes, rows)
    _, probabilities = check_parity(cp, caplog, "softmax_cross_entropy_forward", logits, labels, rtol=1e-5,
                                    atol=1e-5)
    check_parity(cp, caplog, "softmax_forward", logits.reshape(rows, 1, classes), rtol=1e-5, atol=1e-6)
    check_parity(cp, caplog, "softmax_cross_entropy_backward", to_host(probabilities), labels,
                 normal(rng, rows), rtol=1e-5, atol=1e-6)


@gpu
def test_softmax_cross_entropy_out_of_range_label_is_nan(cp, caplog, rng):
    loss, _ = cuda_kernels.softmax_cross_entropy_forward(cp.asarray(normal(rng, 3, 4)), cp.asarray([0, 4, -1]))
    ran_cuda(caplog)
    loss = to_host(loss)
    assert np.isfinite(loss[0]) and np.isnan(loss[1:]).all()


# ------------------------------------------------------------------------------------------------- optimizers

OPTIMIZER_SHAPES = [(3, 3, 2, 4), (4,), (7, 5), (1,), (1000,)]


@gpu
@pytest.mark.parametrize("name,scalars", [
    ("sgd_momentum_update", (0.1, 0.0, False)),
    ("sgd_momentum_update", (0.1, 0.9, False)),
    ("sgd_momentum_update", (0.05, 0.9, True)),
    ("adam_update", (reference.adam_step_size(1e-3, 0.9, 0.999, 3), 0.9, 0.999, 1e-7)),
])
def test_multi_tensor_optimizer_updates(cp, caplog, rng, name, scalars):
    slots = 1 if name == "sgd_momentum_update" else 2
    host = [[normal(rng, *s) for s in OPTIMIZER_SHAPES] for _ in range(2 + slots)]
    if name == "adam_update":
        host[3] = [np.abs(v) for v in host[3]]  # second moments are >= 0
    device = [[cp.asarray(a) for a in group] for group in host]
    for _ in range(3):
        getattr(reference, name)(*host, *scalars)
        cuda_kernels.KERNELS[name](*device, *scalars)
    ran_cuda(caplog)
    for host_group, device_group in zip(host, device):
        for h, d in zip(host_group, device_group):
            np.testing.assert_allclose(to_host(d), h, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------------- fallbacks

@gpu
def test_float64_runs_the_reference(cp, caplog, rng):
    x, w = rng.standard_normal((2, 6, 6, 3)), rng.standard_normal((3, 3, 3, 2))
    y = cuda_kernels.conv2d_forward(cp.asarray(x), cp.asarray(w), (1, 1), ((0, 0), (0, 0)), (1, 1))
    assert y.dtype == np.float64
    np.testing.assert_allclose(to_host(y), reference.conv2d_forward(x, w, (1, 1), ((0, 0), (0, 0)), (1, 1)))
    assert any("conv2d_forward -> reference (not float32)" in r.getMessage() for r in caplog.records)


@gpu
def test_a_kernel_that_does_not_compile_warns_and_falls_back(cp, caplog, rng, tmp_path, monkeypatch):
    for source in (ROOT / "kernels").glob("*.cu"):
        (tmp_path / source.name).write_text(source.read_text())
    broken = 'extern "C" __global__ void bias_relu_forward_nhwc() { nonsense; }'
    (tmp_path / "activation.cu").write_text(broken)
    monkeypatch.setenv("DEEPCORE_KERNELS_DIR", str(tmp_path))
    cuda_modules.load_module.cache_clear()
    try:
        x, bias = normal(rng, 3, 4), normal(rng, 4)
        with pytest.warns(RuntimeWarning, match=r"activation\.cu did not compile for sm_\d+.*bias_relu_forward_nhwc"):
            y = cuda_kernels.bias_relu_forward(cp.asarray(x), cp.asarray(bias))
        np.testing.assert_array_equal(to_host(y), reference.bias_relu_forward(x, bias))
    finally:
        cuda_modules.load_module.cache_clear()
        cuda_modules.kernel_function.cache_clear()


@gpu
def test_too_large_for_int32_indexing_is_a_clear_error(cp):
    with pytest.raises(ValueError, match="int32 indexing limit"):
        cuda_modules.check_index_range("maxpool2d_forward", cuda_modules.INDEX_LIMIT)


# ------------------------------------------------------------------------------------------------- ops and models

def gradients(fn, arrays):
    """Gradients of sum(fn(*arrays) * w) for a fixed random projection w (on the arrays' device)."""
    from deepcore.autograd import Tensor
    from deepcore.autograd.function import enable_grad
    xp = dc.backend.get_array_module(*arrays)
    with enable_grad():
        tensors = [Tensor(a, requires_grad=True) for a in arrays]
        out = fn(*tensors)
        weights = xp.asarray(np.random.default_rng(0).standard_normal(out.shape).astype(arrays[0].dtype))
        (out * Tensor(weights)).sum().backward()
    return [to_host(t.grad) for t in tensors]


OP_CASES = {
    "conv2d": (lambda x, w: dc.ops.conv2d(x, w, 2, "same"), [(2, 7, 6, 3), (3, 3, 3, 4)]),
    "max_pool2d": (lambda x: dc.ops.max_pool2d(x, 3, 2, "same"), [(2, 7, 6, 3)]),
    "avg_pool2d": (lambda x: dc.ops.avg_pool2d(x, 3, 2, "same"), [(2, 7, 6, 3)]),
    "batch_norm": (lambda x, g, b: dc.ops.batch_norm_train(x, g, b, 1e-3)[0], [(4, 3, 3, 5), (5,), (5,)]),
    "batch_norm_relu": (lambda x, g, b: dc.ops.batch_norm_relu(x, g, b, 1e-3)[0], [(4, 3, 3, 5), (5,), (5,)]),
    "relu": (dc.ops.relu, [(4, 6)]),
}


@gpu
@pytest.mark.parametrize("name", OP_CASES)
def test_op_gradients_on_gpu_match_float64_cpu(cp, rng, name):
    """Gradients through the CUDA kernels (float32) against the CPU path in float64 (itself grad-checked)."""
    fn, shapes = OP_CASES[name]
    arrays = [rng.standard_normal(s) for s in shapes]
    expected = gradients(fn, arrays)
    got = gradients(fn, [cp.asarray(a.astype(np.float32)) for a in arrays])
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-3, atol=1e-4)


def seed_cnn():
    return dc.Sequential([
        dc.Input((28, 28, 1)),
        dc.layers.Conv2D(20, 5, activation="relu"),
        dc.layers.MaxPooling2D(2),
        dc.layers.Conv2D(50, 5, activation="relu"),
        dc.layers.MaxPooling2D(2),
        dc.layers.Flatten(),
        dc.layers.Dense(500, activation="relu"),
        dc.layers.Dense(10, activation="softmax"),
    ])


def resnet_block():
    inputs = dc.Input((28, 28, 1))
    h = dc.layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    shortcut = h
    h = dc.layers.Conv2D(8, 3, padding="same")(h)
    h = dc.layers.BatchNormalization()(h)
    h = dc.layers.ReLU()(h)
    h = dc.layers.Conv2D(8, 3, padding="same")(h)
    h = dc.layers.BatchNormalization()(h)
    h = dc.layers.ReLU()(dc.layers.Add()([h, shortcut]))
    h = dc.layers.AveragePooling2D(2)(h)
    outputs = dc.layers.Dense(10, activation="softmax")(dc.layers.Flatten()(h))
    return dc.Model(inputs, outputs)


def train_losses(build, device, weights, x, y, steps=3):
    with dc.device(device):
        model = build()
        model.set_weights(weights)
        model.compile(optimizer=dc.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy")
        return [float(model.train_on_batch(x, y)) for _ in range(steps)]


@gpu
@pytest.mark.parametrize("build", [seed_cnn, resnet_block])
def test_model_trains_the_same_on_cpu_and_gpu(cp, rng, build):
    x, y = rng.random((16, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 16)
    with dc.device("cpu"):
        weights = build().get_weights()
    cpu = train_losses(build, "cpu", weights, x, y)
    gpu_losses = train_losses(build, "gpu", weights, x, y)
    np.testing.assert_allclose(gpu_losses, cpu, rtol=1e-4, atol=1e-5)
    assert cpu[-1] < cpu[0]


@gpu
def test_memory_pool_stays_flat_over_50_training_steps(cp, rng):
    x, y = rng.random((32, 28, 28, 1)).astype(np.float32), rng.integers(0, 10, 32)
    pool = cp.get_default_memory_pool()
    used = []
    with dc.device("gpu"):
        model = seed_cnn()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        for _ in range(50):
            model.train_on_batch(x, y)
            cp.cuda.Device().synchronize()
            used.append(pool.used_bytes())
    settled = used[9]  # after warm-up: optimizer slots and cached kernel tables exist
    assert max(used[10:]) - settled <= 2**20, f"pool grew from {settled} to {max(used[10:])} bytes: {used}"


# ------------------------------------------------------------------------------------------------- no GPU needed

def test_every_kernel_name_has_a_cuda_wrapper_with_its_reference():
    assert set(cuda_kernels.KERNELS) == set(KERNEL_NAMES)
    for name in KERNEL_NAMES:
        assert cuda_kernels.KERNELS[name].reference is getattr(reference, name)


def test_kernel_sources_are_found_and_overridable(tmp_path, monkeypatch):
    assert (cuda_modules.kernels_dir() / "conv.cu").is_file()
    (tmp_path / "conv.cu").write_text("// stand-in")
    monkeypatch.setenv("DEEPCORE_KERNELS_DIR", str(tmp_path))
    assert cuda_modules.kernels_dir() == tmp_path


def test_host_arrays_run_the_reference(rng):
    """No CuPy array (here: NumPy) means no launch; the wrapper must not try to compile anything."""
    pytest.importorskip("cupy")
    x, bias = normal(rng, 3, 4), normal(rng, 4)
    np.testing.assert_array_equal(cuda_kernels.bias_relu_forward(x, bias), reference.bias_relu_forward(x, bias))


def test_importing_the_cuda_modules_does_not_import_cupy():
    import subprocess
    code = ("import sys; import deepcore.backend.cuda_kernels, deepcore.backend.cuda_modules; "
            "print('cupy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


# ------------------------------------------------------------------------------------------------- gpu_check.py

@pytest.fixture
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_arguments(gpu_check, tmp_path, monkeypatch):
    monkeypatch.setenv("OUT", str(tmp_path))
    args = gpu_check.parse_args([])
    assert args.out == tmp_path and not args.skip_tests and not args.skip_bench
    args = gpu_check.parse_args(["--out", str(tmp_path / "x"), "--skip-tests", "--repeats", "3"])
    assert args.out == tmp_path / "x" and args.skip_tests and args.repeats == 3
    monkeypatch.delenv("OUT")
    assert gpu_check.parse_args([]).out == ROOT / "benchmarks" / "results"


def test_gpu_check_without_a_gpu_writes_json_that_says_so(gpu_check, tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "gpu_probe", lambda: (False, "no CUDA here"))
    status = gpu_check.main(["--out", str(tmp_path)])
    assert status == 2
    (path,) = tmp_path.glob("gpu_check*.json")
    report = json.loads(path.read_text())
    assert report["gpu"] == {"usable": False, "reason": "no CUDA here"}
    assert report["git"]["commit"] and set(report["kernel_sources"]) >= {"conv.cu", "pooling.cu"}
    assert "tests" not in report and "benchmarks" not in report


def test_gpu_check_bandwidth_and_throughput_arithmetic(gpu_check):
    assert gpu_check.gigabytes_per_second(2e9, 0.5) == pytest.approx(4.0)
    assert gpu_check.conv_flops((128, 32, 32, 16), (3, 3, 16, 16), (128, 32, 32, 16)) == 2 * 128 * 32 * 32 * 16 * 144
    summary = gpu_check.summarize_pytest("x\n== 12 passed, 3 skipped in 4.5s ==\n")
    assert summary == {"passed": 12, "skipped": 3}
