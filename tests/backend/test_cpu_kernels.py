"""The fast CPU kernels (``cpu_kernels.KERNELS``: numba + BLAS) against the NumPy reference.

Every kernel on hypothesis-drawn shapes (odd sizes, batch 1, 1x1, stride >
kernel, 'same'/'valid', dilation) in float32 and float64; the convolution
again with chunks down to one line or one tile and with Winograd forced on;
no aliasing between results and the reused scratch buffers; and float64
gradient checks of the ops that run on these kernels.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepcore import ops
from deepcore.autograd import grad_check
from deepcore.backend import cpu_conv, cpu_pool, cpu_winograd, reference
from deepcore.backend.cpu_kernels import KERNELS
from deepcore.backend.kernel_table import KERNEL_NAMES, kernel_table
from deepcore.ops.conv import resolve_padding

RTOL = {np.float32: 1e-4, np.float64: 1e-10}
few = settings(max_examples=30, deadline=None)
dtypes = st.sampled_from([np.float32, np.float64])


def random(seed, dtype, *shape, offset=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) + offset).astype(dtype)


def check(name, *args, rtol=None, scale=None):
    """KERNELS[name](*args) matches reference.name(*args): shapes, dtypes, values.

    The absolute tolerance is ``rtol`` times ``scale``, by default the largest output entry.
    """
    expected = getattr(reference, name)(*args)
    got = KERNELS[name](*args)
    if not isinstance(expected, tuple):
        expected, got = (expected,), (got,)
    for i, (g, e) in enumerate(zip(got, expected)):
        if e is None:  # an output not asked for
            assert g is None, f"{name} output {i}: {type(g).__name__} vs None"
            continue
        assert (g.shape, g.dtype) == (e.shape, e.dtype), f"{name} output {i}: {g.shape, g.dtype} vs {e.shape, e.dtype}"
        tol = rtol if rtol is not None else RTOL.get(e.dtype.type, 0)
        size = scale if scale is not None else float(np.abs(e).max()) if e.size else 0.0
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol * size, err_msg=f"{name} output {i}")
    return got


def test_every_kernel_has_a_fast_cpu_version():
    assert set(KERNELS) == set(KERNEL_NAMES)
    assert all(path == "numba" for path in kernel_table.__wrapped__("cpu").paths.values())


def test_no_two_cached_numba_builds_share_a_cache_entry():
    """numba's disk cache keys a function by module, name and argument types, not by its flags: two builds
    of one function (threaded and serial) under one name would load each other's code."""
    import importlib
    import pkgutil

    import deepcore.backend
    from numba.core.registry import CPUDispatcher

    seen = {}
    for info in pkgutil.iter_modules(deepcore.backend.__path__):
        if not info.name.startswith("cpu_"):
            continue
        module = importlib.import_module(f"deepcore.backend.{info.name}")
        for value in vars(module).values():
            for dispatcher in value if isinstance(value, tuple) else (value,):
                if isinstance(dispatcher, CPUDispatcher):
                    key = (dispatcher.py_func.__module__, dispatcher.py_func.__qualname__)
                    assert seen.setdefault(key, dispatcher) is dispatcher, f"two cached builds of {key}"
    assert len(seen) > 20


# ------------------------------------------------------------------------------------------------- convolution

@st.composite
def conv_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["same", "valid"]))
    h = draw(st.integers((kh - 1) * dilation[0] + 1, 10))
    w = draw(st.integers((kw - 1) * dilation[1] + 1, 10))
    x_shape = (draw(st.integers(1, 3)), h, w, draw(st.integers(1, 5)))
    w_shape = (kh, kw, x_shape[3], draw(st.integers(1, 5)))
    pads = resolve_padding(padding, (h, w), (kh, kw), stride, dilation)
    return x_shape, w_shape, stride, pads, dilation


def check_conv(case, dtype, seed=0):
    x_shape, w_shape, stride, pads, dilation = case
    x, w = random(seed, dtype, *x_shape), random(seed + 1, dtype, *w_shape)
    (y,) = check("conv2d_forward", x, w, stride, pads, dilation)
    bias = random(seed + 3, dtype, w_shape[3])
    for relu in (True, False):  # the bias (+ReLU) epilogue on every chunk of every path
        check("conv2d_bias_relu_forward", x, w, bias, stride, pads, dilation, relu)
    gy = random(seed + 2, dtype, *y.shape)
    check("conv2d_backward_data", gy, w, x_shape, stride, pads, dilation)
    check("conv2d_backward_filter", x, gy, w_shape, stride, pads, dilation)


@few
@given(conv_cases(), dtypes)
def test_conv2d(case, dtype):
    check_conv(case, dtype)


@pytest.mark.parametrize("settings_", [
    {(cpu_conv, "CHUNK_ROWS"): 1},  # one output line (or one image) per GEMM
    {(cpu_conv, "CHUNK_ROWS"): 7},
    {(cpu_winograd, "MIN_CHANNELS"): 1},  # every 3x3 stride-1 case through Winograd
    {(cpu_winograd, "MIN_CHANNELS"): 1, (cpu_winograd, "TILE_WORK"): 1},  # one tile per chunk
], ids=["1-row-chunks", "7-row-chunks", "winograd", "winograd-1-tile-chunks"])
@settings(max_examples=15, deadline=None)
@given(case=conv_cases(), dtype=dtypes)
def test_conv2d_paths(settings_, case, dtype):
    """The same cases with the chunking and Winograd knobs turned: every path covers every output."""
    defaults = {key: getattr(*key) for key in settings_}
    try:
        for (module, name), value in settings_.items():
            setattr(module, name, value)
        check_conv(case, dtype)
    finally:
        for (module, name), value in defaults.items():
            setattr(module, name, value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [
    ((64, 28, 28, 1), (5, 5, 1, 20), (1, 1), "valid", (1, 1)),  # the seed MNIST CNN's first layer
    ((2, 16, 16, 16), (3, 3, 16, 32), (2, 2), "same", (1, 1)),  # a ResNet downsampling conv
    ((2, 16, 16, 16), (1, 1, 16, 32), (2, 2), "valid", (1, 1)),  # its projection shortcut
    ((1, 9, 9, 3), (2, 2, 3, 2), (1, 1), ((3, 0), (0, 4)), (1, 1)),  # padding wider than the kernel
    ((2, 8, 8, 32), (3, 3, 32, 32), (1, 1), "same", (1, 1)),  # Winograd, as CIFAR's 32-channel layers
    ((1, 9, 7, 40), (3, 3, 40, 33), (1, 1), "valid", (1, 1)),  # Winograd, odd sizes, partial tiles
])
def test_conv2d_workload_shapes(case, dtype):
    x_shape, w_shape, stride, padding, dilation = case
    if isinstance(padding, str):
        padding = resolve_padding(padding, x_shape[1:3], w_shape[:2], stride, dilation)
    check_conv((x_shape, w_shape, stride, padding, dilation), dtype)


def test_conv2d_results_do_not_alias_the_scratch_buffer():
    x, w = random(0, np.float32, 2, 8, 8, 3), random(1, np.float32, 3, 3, 3, 4)
    pads = ((1, 1), (1, 1))
    first = KERNELS["conv2d_forward"](x, w, (1, 1), pads, (1, 1))
    kept = first.copy()
    KERNELS["conv2d_forward"](random(2, np.float32, 2, 8, 8, 3), w, (1, 1), pads, (1, 1))
    KERNELS["conv2d_backward_data"](first, w, x.shape, (1, 1), pads, (1, 1))
    np.testing.assert_array_equal(first, kept)


def test_conv2d_non_contiguous_and_other_dtypes():
    x = random(0, np.float64, 2, 4, 7, 6).transpose(0, 2, 1, 3)  # (2, 7, 4, 6), not C-contiguous
    w = random(1, np.float64, 3, 3, 6, 2)
    check_conv_args = (x, w, (1, 2), ((1, 1), (1, 1)), (1, 1))
    check("conv2d_forward", *check_conv_args)
    (y,) = check("conv2d_forward", x.astype(np.float16), w.astype(np.float16), *check_conv_args[2:], rtol=1e-2)
    assert y.dtype == np.float16  # not a numba dtype: the reference ran


# ------------------------------------------------------------------------------------------------- convolution paths
# Which path a conv takes depends on its shape (cpu_conv: planar im2col for few input channels, Winograd
# for 3x3 stride 1, NHWC im2col otherwise); these cases pin each path and turn its knobs.

def conv_case(x_shape, w_shape, stride, padding, dilation=(1, 1)):
    if isinstance(padding, str):
        padding = resolve_padding(padding, x_shape[1:3], w_shape[:2], stride, dilation)
    return x_shape, w_shape, stride, padding, dilation


class knobs:
    """Set module attributes for a block, as monkeypatch does (which hypothesis tests cannot take)."""

    def __init__(self, settings_):
        self.settings = settings_

    def __enter__(self):
        self.defaults = {key: getattr(*key) for key in self.settings}
        for (module, name), value in self.settings.items():
            setattr(module, name, value)

    def __exit__(self, *exc):
        for (module, name), value in self.defaults.items():
            setattr(module, name, value)


PLANAR_CASES = [  # (x shape, w shape, stride, padding, dilation): C_in <= cpu_conv.PLANAR_MAX_CHANNELS
    ((2, 28, 28, 1), (5, 5, 1, 6), (1, 1), "same"),  # LeNet-5's first layer
    ((1, 28, 28, 1), (5, 5, 1, 20), (1, 1), "valid"),  # the MNIST CNN's, batch 1
    ((2, 32, 32, 3), (3, 3, 3, 16), (1, 1), "same"),  # ResNet-20's
    ((3, 11, 9, 3), (3, 3, 3, 5), (2, 2), "same"),  # odd sizes, stride 2
    ((1, 13, 10, 3), (7, 7, 3, 4), (2, 3), "valid"),  # stride per axis, kernel wider than the stride
    ((2, 9, 12, 4), (3, 2, 4, 3), (1, 1), "same", (2, 3)),  # dilation, 4 channels
    ((1, 5, 7, 1), (2, 3, 1, 1), (3, 1), ((2, 0), (0, 3))),  # padding on one side only, one output channel
    ((2, 6, 6, 2), (1, 1, 2, 3), (1, 1), "valid"),  # 1x1: not planar, x is its own im2col
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", PLANAR_CASES, ids=str)
@pytest.mark.parametrize("chunk_pixels", [1, 37, 512])  # one output row per chunk, a few rows, the default
def test_conv2d_planar_path(case, dtype, chunk_pixels):
    with knobs({(cpu_conv, "PLANAR_CHUNK_PIXELS"): chunk_pixels}):
        check_conv(conv_case(*case), dtype)


TAP_ROW_CASES = [  # C_in > 4, not Winograd: one GEMM per tap row (cpu_conv._conv_forward)
    ((2, 32, 32, 16), (3, 3, 16, 16), (1, 1), "same"),  # ResNet-20's 16-channel convs
    ((1, 14, 14, 6), (5, 5, 6, 16), (1, 1), "valid"),  # LeNet-5's second layer, batch 1
    ((2, 11, 9, 5), (3, 2, 5, 7), (1, 2), "same"),  # stride along W only: tap rows still shared
    ((2, 12, 10, 6), (3, 3, 6, 4), (2, 1), "same"),  # stride along H: each tap row built on its own
    ((1, 13, 12, 5), (3, 3, 5, 3), (1, 1), "valid", (2, 2)),  # dilation: tap row i is dh*i lines down
    ((2, 7, 9, 8), (3, 1, 8, 5), (1, 1), "valid"),  # one column, as tall as the input minus 2
    ((2, 6, 6, 8), (1, 1, 8, 4), (1, 1), "valid"),  # 1x1: x is its own cols
    ((2, 9, 9, 8), (1, 1, 8, 4), (2, 2), "valid"),  # 1x1, strided
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TAP_ROW_CASES, ids=str)
@pytest.mark.parametrize("chunk_rows", [1, 7, 256])  # one output line per chunk, a few lines, the default
def test_conv2d_tap_row_path(case, dtype, chunk_rows):
    with knobs({(cpu_conv, "CHUNK_ROWS"): chunk_rows, (cpu_winograd, "MIN_CHANNELS"): 1 << 30}):  # Winograd off
        check_conv(conv_case(*case), dtype)


@pytest.mark.parametrize("max_channels", [0, 1 << 30], ids=["col2im", "flipped"])
@settings(max_examples=15, deadline=None)
@given(case=conv_cases(), dtype=dtypes)
def test_conv2d_flipped_data_gradient(max_channels, case, dtype):
    """The drawn cases with every stride-1 data gradient through col2im, then through the flipped conv."""
    with knobs({(cpu_conv, "FLIPPED_MAX_CHANNELS"): max_channels}):
        check_conv(case, dtype)


WINOGRAD_CASES = [  # 3x3 stride 1, >= cpu_winograd.MIN_CHANNELS channels: tile rows transformed as whole runs
    ((2, 32, 32, 16), (3, 3, 16, 16), (1, 1), "same"),  # ResNet-20's 16-channel convs
    ((1, 32, 32, 16), (3, 3, 16, 32), (1, 1), "same"),  # 16 -> 32, batch 1
    ((3, 7, 9, 17), (3, 3, 17, 19), (1, 1), "same"),  # odd sizes: a partial tile row and column, odd channels
    ((2, 9, 6, 20), (3, 3, 20, 16), (1, 1), "valid"),  # 'valid', odd output height
    ((1, 3, 3, 16), (3, 3, 16, 18), (1, 1), "valid"),  # a single 1x1 output: one cropped tile
    ((2, 5, 4, 24), (3, 3, 24, 16), (1, 1), ((2, 0), (0, 2))),  # padding on one side only
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=str)
@pytest.mark.parametrize("tile_work", [1, 300, 4096])  # one tile row per chunk, chunks across images, the default
def test_conv2d_winograd_path(case, dtype, tile_work):
    with knobs({(cpu_winograd, "TILE_WORK"): tile_work}):
        check_conv(conv_case(*case), dtype)


@pytest.mark.parametrize("max_channels", [0, 5], ids=["planar-off", "planar-up-to-5"])
@settings(max_examples=15, deadline=None)
@given(case=conv_cases(), dtype=dtypes)
def test_conv2d_planar_threshold(max_channels, case, dtype):
    """The drawn cases (1-5 input channels) with the planar path off, then on for all of them."""
    with knobs({(cpu_conv, "PLANAR_MAX_CHANNELS"): max_channels, (cpu_conv, "PLANAR_CHUNK_PIXELS"): 7}):
        check_conv(case, dtype)


# ------------------------------------------------------------------------------------------------- pooling

@st.composite
def pool_cases(draw):
    pool = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    padding = draw(st.sampled_from(["same", "valid"]))
    h, w = draw(st.integers(pool[0], 10)), draw(st.integers(pool[1], 10))
    x_shape = (draw(st.integers(1, 3)), h, w, draw(st.integers(1, 5)))
    return x_shape, pool, stride, resolve_padding(padding, (h, w), pool, stride)


def check_pooling(x, pool, stride, pads):
    """Every pooling kernel against the reference, in both slot layouts of ``cpu_pool`` (one slot per
    input column, one per output column)."""
    saved = cpu_pool.DENSE_BELOW
    try:
        for dense_below in (1 << 30, 0):
            cpu_pool.DENSE_BELOW = dense_below
            y, argmax = check("maxpool2d_forward", x, pool, stride, pads, rtol=0)
            gy = random(1, x.dtype, *y.shape)
            check("maxpool2d_backward", gy, argmax, x.shape, pool, stride, pads)
            check("avgpool2d_forward", x, pool, stride, pads)
            check("avgpool2d_backward", gy, x.shape, pool, stride, pads)
    finally:
        cpu_pool.DENSE_BELOW = saved


@few
@given(pool_cases(), dtypes)
def test_pooling(case, dtype):
    x_shape, pool, stride, pads = case
    check_pooling(random(0, dtype, *x_shape), pool, stride, pads)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool,stride,padding", [
    ((2, 2), (2, 2), "valid"), ((2, 2), (2, 2), "same"), ((3, 3), (3, 3), "same"),  # 'same': pads after, then before
    ((3, 3), (2, 2), "same"), ((3, 2), (1, 2), "valid"), ((2, 3), (3, 1), "same")])  # overlapping windows, gaps
def test_pooling_on_several_threads(pool, stride, padding, dtype):
    """Odd sizes big enough for two threads, with many ties (small integers): overlapping windows must
    neither race in the max backward nor send a tied gradient anywhere but the reference's argmax."""
    x = np.round(random(2, dtype, 3, 27, 31, 40) * 1.5)
    check_pooling(x, pool, stride, resolve_padding(padding, x.shape[1:3], pool, stride))


def test_maxpool_ties_take_the_first_maximum():
    x = np.zeros((1, 4, 4, 2), np.float32)
    x[0, 1, 1, 1] = -1
    check("maxpool2d_forward", x, (2, 2), (2, 2), ((0, 0), (0, 0)), rtol=0)


# ------------------------------------------------------------------------------------------------- batch norm

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)


@few
@given(shapes, dtypes, st.sampled_from([0.0, 1e3]))
def test_batchnorm(shape, dtype, offset):
    x = random(0, dtype, *shape, offset=offset)
    gamma, beta = random(1, dtype, shape[-1]), random(2, dtype, shape[-1])
    rtol = 1e-3 if (dtype is np.float32 and offset) else None  # float32 x - mean keeps few digits at 1e3
    y, mean, variance, inv_std = check("batchnorm_forward_train", x, gamma, beta, 1e-3, rtol=rtol)
    gy = random(3, dtype, *shape)
    # gx cancels to ~0 for tiny batches: compare at the size of its terms, gamma * inv_std * gy
    check("batchnorm_backward", gy, x, gamma, mean, inv_std, rtol=rtol, scale=float(np.abs(gy * gamma * inv_std).max()))
    check("batchnorm_forward_infer", x, gamma, beta, mean, variance + 0.5, 1e-3, rtol=rtol)


@few
@given(shapes, dtypes, st.sampled_from([0.0, 1e3]))
def test_batchnorm_relu(shape, dtype, offset):
    """The fused BatchNorm+ReLU kernels against ReLU(BatchNorm) of the reference."""
    x = random(0, dtype, *shape, offset=offset)
    gamma, beta = random(1, dtype, shape[-1]), random(2, dtype, shape[-1])
    rtol = 1e-3 if (dtype is np.float32 and offset) else None
    y, mean, variance, inv_std = check("batchnorm_relu_forward_train", x, gamma, beta, 1e-3, rtol=rtol)
    assert (y >= 0).all()
    gy = random(3, dtype, *shape)
    check("batchnorm_relu_backward", gy, y, x, gamma, mean, inv_std, rtol=rtol,
          scale=float(np.abs(gy * gamma * inv_std).max()))
    check("batchnorm_relu_forward_infer", x, gamma, beta, mean, variance + 0.5, 1e-3, rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(128, 8, 8, 64), (3, 37, 5, 16), (513, 3), (2, 300)], ids=str)
def test_batchnorm_lane_blocks_and_tails(shape, dtype):
    """Shapes with many whole lane blocks (cpu_batchnorm.LANES), a partial last block, and channels > LANES."""
    x, gy = random(0, dtype, *shape, offset=2.0), random(1, dtype, *shape)
    gamma, beta = random(2, dtype, shape[-1]), random(3, dtype, shape[-1])
    _, mean, _, inv_std = check("batchnorm_forward_train", x, gamma, beta, 1e-3)
    check("batchnorm_backward", gy, x, gamma, mean, inv_std, scale=float(np.abs(gy * gamma * inv_std).max()))
    y, *_ = check("batchnorm_relu_forward_train", x, gamma, beta, 1e-3)
    check("batchnorm_relu_backward", gy, y, x, gamma, mean, inv_std, scale=float(np.abs(gy * gamma * inv_std).max()))


def test_batchnorm_relu_backward_keeps_nan_gradients_where_masked():
    """As reference.relu_backward: gy * (y > 0), so a NaN gradient under the mask still poisons the sums."""
    x, gamma, beta = random(0, np.float32, 4, 3), np.ones(3, np.float32), np.zeros(3, np.float32)
    y, mean, _, inv_std = KERNELS["batchnorm_relu_forward_train"](x, gamma, beta, 1e-3)
    gy = np.ones_like(x)
    gy[y == 0] = np.nan
    gx, ggamma, gbeta = KERNELS["batchnorm_relu_backward"](gy, y, x, gamma, mean, inv_std)
    expected = reference.batchnorm_relu_backward(gy, y, x, gamma, mean, inv_std)
    for got, want in zip((gx, ggamma, gbeta), expected):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_batchnorm_moments_are_accurate_far_from_zero():
    """Moments of float32 data with mean 1e4 and std 1: as accurate as float64 math on the same numbers."""
    x = random(0, np.float32, 64, 8, 8, 16, offset=1e4)
    ones, zeros = np.ones(16, np.float32), np.zeros(16, np.float32)
    _, mean, variance, _ = KERNELS["batchnorm_forward_train"](x, ones, zeros, 1e-3)
    exact = x.astype(np.float64).reshape(-1, 16)
    np.testing.assert_allclose(mean, exact.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(variance, exact.var(axis=0), rtol=1e-5)


# ------------------------------------------------------------------------------------------------- activations, loss

@few
@given(shapes, dtypes)
def test_bias_relu_and_relu_backward(shape, dtype):
    x, bias = random(0, dtype, *shape), random(1, dtype, shape[-1])
    (y,) = check("bias_relu_forward", x, bias)
    check("relu_backward", random(2, dtype, *shape), y)
    check("relu_forward", x)
    check("add_relu_forward", x, random(4, dtype, *shape))
    check("add", x, random(4, dtype, *shape))
    check("bias_relu_backward", random(3, dtype, *shape), y, scale=float(np.prod(shape)))


def test_relu_keeps_nan_and_signed_zero_as_numpy():
    x = np.array([np.nan, -0.0, 0.0, -1.0, 2.0], np.float32)
    np.testing.assert_array_equal(KERNELS["relu_forward"](x), np.maximum(x, 0))
    gx, _ = KERNELS["bias_relu_backward"](np.array([[np.nan], [-1.0]], np.float32), np.array([[0.0], [0.0]]))
    assert np.isnan(gx[0, 0]) and np.signbit(gx[1, 0])


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (7, 5, 3), (128, 33, 10), (3, 300, 2), (257, 64, 129)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_layouts(m, k, n, dtype):
    """C-contiguous, transposed (F-contiguous) a or b, and a non-contiguous slice: each as a @ b."""
    a, b = random(0, dtype, m, k), random(1, dtype, k, n)
    check("matmul", a, b)
    check("matmul", np.ascontiguousarray(a.T).T, b)  # a.T @ g of a backward pass
    check("matmul", a, np.ascontiguousarray(b.T).T)
    check("matmul", random(2, dtype, m, 2 * k)[:, ::2], b)
    check("matmul", a.astype(np.float64), b.astype(np.float32))  # mixed dtypes: the reference
    bias = random(3, dtype, n)
    for relu in (False, True):  # the epilogue on row blocks, column blocks, and OpenBLAS's narrow outputs
        check("dense_forward", a, b, bias, relu)
        check("dense_forward", np.ascontiguousarray(a.T).T, b, bias, relu)
    check("dense_forward", a, b, bias.astype(np.float64 if dtype == np.float32 else np.float32), True)
    g = random(4, dtype, m, n)
    for input_grad in (True, False):  # Dense's gradients: x (m, k), w (k, n), g (m, n)
        check("dense_backward", a, b, g, input_grad)
        check("dense_backward", np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T, g, input_grad)
    check("dense_backward", a, b, g.astype(np.float64 if dtype == np.float32 else np.float32), True)


@few
@given(st.integers(1, 20), st.integers(1, 12), dtypes)
def test_softmax_cross_entropy(n, classes, dtype):
    logits = random(0, dtype, n, classes) * 5
    labels = np.random.default_rng(1).integers(0, classes, n)
    _, probabilities = check("softmax_cross_entropy_forward", logits, labels)
    check("softmax_cross_entropy_backward", probabilities, labels, random(2, dtype, n))
    np.testing.assert_allclose(check("softmax_forward", logits.reshape(n, 1, classes))[0].reshape(n, classes),
                               probabilities, rtol=RTOL[dtype], atol=RTOL[dtype])


def test_softmax_forward_extremes():
    """-inf entries get probability 0, equal logits share it evenly, and an empty batch stays empty."""
    x = np.array([[-np.inf, 0.0, 0.0], [1e30, 1e30, -1e30]], np.float32)
    np.testing.assert_array_equal(KERNELS["softmax_forward"](x), [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    assert KERNELS["softmax_forward"](np.zeros((0, 4), np.float32)).shape == (0, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,scalars", [
    ("sgd_momentum_update", (0.1, 0.0, False)), ("sgd_momentum_update", (0.1, 0.9, False)),
    ("sgd_momentum_update", (0.05, 0.9, True)),
    ("adam_update", (reference.adam_step_size(1e-3, 0.9, 0.999, 3), 0.9, 0.999, 1e-7))])
def test_optimizer_updates(name, scalars, dtype):
    """In place over lists of tensors of several shapes (one big enough for several threads), 3 steps."""
    shapes = [(3, 3, 2, 4), (1,), (7, 5), (70000,)]
    groups = [[random(10 * i + j, dtype, *s) for j, s in enumerate(shapes)] for i in range(4 if "adam" in name else 3)]
    if name == "adam_update":
        groups[3] = [np.abs(v) for v in groups[3]]  # second moments are >= 0
    expected = [[a.copy() for a in group] for group in groups]
    for _ in range(3):
        getattr(reference, name)(*expected, *scalars)
        KERNELS[name](*groups, *scalars)
    for group, expected_group in zip(groups, expected):
        for got, want in zip(group, expected_group):
            np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("labels", [[0, 3], [-1, 2], [2.0, 7.0]], ids=str)
def test_softmax_cross_entropy_rejects_bad_labels(labels):
    labels = np.array(labels)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got values in \[-?\d"):
        KERNELS["softmax_cross_entropy_forward"](np.zeros((2, 3), np.float32), labels)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        KERNELS["softmax_cross_entropy_backward"](np.full((2, 3), 1 / 3, np.float32), labels, np.ones(2, np.float32))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8])
def test_softmax_cross_entropy_label_dtypes(dtype):
    logits, labels = random(0, np.float32, 6, 4), np.array([0, 3, 2, 1, 1, 0], dtype)
    _, probabilities = check("softmax_cross_entropy_forward", logits, labels)
    check("softmax_cross_entropy_backward", probabilities, labels, random(1, np.float32, 6))


# ------------------------------------------------------------------------------------------------- gradients

def arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("strides,padding,dilation,kernel", [
    (1, "same", 1, 3), (2, "same", 1, 3), ((2, 1), "valid", 1, 2), (1, "same", 2, 3), (3, "valid", 1, 2),
    (2, "valid", 1, 1), (1, "valid", 1, 1)])
def test_conv2d_gradients(strides, padding, dilation, kernel):
    x, w = arrays(0, (2, 7, 6, 3), (kernel, kernel, 3, 4))
    grad_check(lambda a, b: ops.conv2d(a, b, strides, padding, dilation), [x, w])


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_gradients_through_winograd(monkeypatch, padding):
    monkeypatch.setattr(cpu_winograd, "MIN_CHANNELS", 1)
    x, w = arrays(5, (2, 7, 6, 3), (3, 3, 3, 4))
    grad_check(lambda a, b: ops.conv2d(a, b, 1, padding), [x, w])


def test_conv2d_gradients_through_the_flipped_data_gradient():
    """A 'valid' stride-1 conv with few input channels: its data gradient runs as a flipped forward conv."""
    x, w = arrays(7, (2, 9, 8, 3), (5, 4, 3, 2))
    assert x.shape[3] <= cpu_conv.FLIPPED_MAX_CHANNELS
    grad_check(lambda a, b: ops.conv2d(a, b, 1, "valid"), [x, w])


@pytest.mark.parametrize("tile_work", [1, 4096])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_gradients_through_winograd_16_channels(monkeypatch, padding, tile_work):
    """At the default threshold: ResNet-20's 16 channels, odd sizes, chunks of one tile row or across images."""
    monkeypatch.setattr(cpu_winograd, "TILE_WORK", tile_work)
    x, w = arrays(6, (2, 5, 7, 16), (3, 3, 16, 17))
    grad_check(lambda a, b: ops.conv2d(a, b, 1, padding), [x, w])


@pytest.mark.parametrize("op", [ops.max_pool2d, ops.avg_pool2d])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same"), ((2, 3), (1, 2), "same")])
def test_pooling_gradients(op, pool, strides, padding):
    (x,) = arrays(1, (2, 7, 6, 3))
    grad_check(lambda a: op(a, pool, strides, padding), [x])


def test_batch_norm_bias_relu_and_loss_gradients():
    x, gamma, beta = arrays(2, (4, 3, 3, 5), (5,), (5,))
    grad_check(lambda a, g, b: ops.batch_norm_train(a, g, b, 1e-3)[0], [x, gamma, beta])
    grad_check(lambda a, g, b: ops.batch_norm_relu(a, g, b, 1e-3)[0], [x, gamma, beta])
    grad_check(lambda a, b: ops.bias_relu(a, b), arrays(3, (4, 3, 5), (5,)))
    grad_check(ops.relu, arrays(6, (3, 4, 5)))
    grad_check(ops.matmul, arrays(7, (6, 4), (4, 3)))
    grad_check(lambda a, w, b: ops.dense(a, w, b, relu=True), arrays(8, (6, 4), (4, 3), (3,)))
    labels = np.array([0, 3, 2, 3, 1])
    grad_check(lambda a: ops.sparse_categorical_crossentropy(labels, a, from_logits=True), arrays(4, (5, 4)))
