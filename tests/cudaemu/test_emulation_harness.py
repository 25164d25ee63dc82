"""The emulator itself (deepcore/backend/cuda_emulation.py, kernels/emulation/): it must catch broken
kernels (an off-by-one index by parity, a missing __syncthreads() by ThreadSanitizer, an out-of-bounds
halo read by AddressSanitizer), emulate warps, atomics and shared memory faithfully, refuse what it
cannot emulate, and check launches as the GPU would."""
import numpy as np
import pytest

from cudaemu_harness import assert_parity, empty
from deepcore.backend.cuda_emulation import CudaEmulationError, EmulatedModule, parse_kernels

pytestmark = pytest.mark.cudaemu

BLOCK = 64
# A 3-point stencil y[i] = x[i-1] + x[i] + x[i+1] (zero outside), through a shared tile with a
# one-element halo on each side. Launch: block BLOCK, grid ceil(n / BLOCK).
STENCIL = """
constexpr int kBlock = 64;
extern "C" __global__ void stencil(const float* __restrict__ x, float* __restrict__ y, int n) {
    __shared__ float tile[kBlock + 2];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    tile[threadIdx.x + 1] = i < n ? x[i] : 0.0f;
    if (threadIdx.x == 0) tile[0] = i > 0 ? x[i - 1] : 0.0f;
    if (threadIdx.x == blockDim.x - 1) tile[kBlock + 1] = i + 1 < n ? x[i + 1] : 0.0f;
    __syncthreads();
    if (i < n) y[i] = tile[threadIdx.x] + tile[threadIdx.x + 1] + tile[threadIdx.x + 2];
}
"""
BROKEN = {
    "correct": STENCIL,
    "off_by_one": STENCIL.replace("y[i] = tile[threadIdx.x] +", "y[i] = tile[threadIdx.x + 1] +"),
    "missing_syncthreads": STENCIL.replace("__syncthreads();", ""),
    "halo_out_of_bounds": STENCIL.replace("i + 1 < n ? x[i + 1] : 0.0f", "x[i + 1]"),
}
# Warps, atomics and shared memory: a block sum (tree in shared memory, then shuffles), a
# histogram with atomicAdd and the same without atomics (a race), a read of shared memory
# no thread wrote, a shuffle from lanes that do not exist, two kinds of divergent barriers.
FEATURES = """
extern "C" __global__ void block_sum(const float* x, float* out, int n) {
    __shared__ float partial[256];
    float sum = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) sum += x[i];
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int half = blockDim.x / 2; half >= 32; half /= 2) {
        if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x < 32) {
        float value = partial[threadIdx.x];
        for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
        if (threadIdx.x == 0) atomicAdd(out, value);
    }
}
extern "C" __global__ void warp_ops(const int* x, int* out) {
    const int lane = threadIdx.x % 32;
    const int v = x[threadIdx.x];
    out[4 * threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 5);
    out[4 * threadIdx.x + 1] = __shfl_up_sync(0xffffffffu, v, 3, 8);
    out[4 * threadIdx.x + 2] = __shfl_sync(0xffffffffu, v, 7 - lane % 8, 8);
    out[4 * threadIdx.x + 3] = __ballot_sync(0xffffffffu, v % 3 == 0);
}
extern "C" __global__ void histogram_atomic(const int* bins, int* counts, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        atomicAdd(&counts[bins[i]], 1);
}
extern "C" __global__ void histogram_racy(const int* bins, int* counts, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) counts[bins[i]] += 1;
}
extern "C" __global__ void unwritten_shared(float* y) {
    __shared__ float tile[64];
    if (threadIdx.x % 2 == 0) tile[threadIdx.x] = 1.0f;
    __syncthreads();
    y[threadIdx.x] = tile[threadIdx.x];
}
extern "C" __global__ void shuffle_past_the_block(float* y) {
    y[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.0f, 16);
}
extern "C" __global__ void divergent_syncthreads(float* y) {
    if (threadIdx.x < 5) {
        __syncthreads();
    } else {
        __syncthreads();
    }
}
extern "C" __global__ void deadlock(float* y) {
    if (threadIdx.x < 5) __syncthreads();
    else __syncwarp();
    __syncthreads();
}
extern "C" __global__ void last_block_wins(int* out) {
    if (threadIdx.x == 0) out[0] = blockIdx.x;
}
extern "C" __global__ void shared_out_of_bounds(float* y) {
    __shared__ float tile[32];
    tile[threadIdx.x] = 1.0f;
    __syncthreads();
    y[threadIdx.x] = tile[threadIdx.x];
}
"""


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cudaemu")
    for name, text in {**BROKEN, "features": FEATURES}.items():
        (folder / f"{name}.cu").write_text(text)
    return folder


@pytest.fixture(scope="module")
def load(sources):
    loaded = {}

    def get(name, mode):
        if (name, mode) not in loaded:
            loaded[name, mode] = EmulatedModule(sources / f"{name}.cu", mode)
        return loaded[name, mode]
    yield get
    for module in loaded.values():
        module.close()


def stencil(load, variant, mode, n=2 * BLOCK):
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    y = empty(n)
    load(variant, mode).get_function("stencil")((n + BLOCK - 1) // BLOCK, BLOCK, (x, y, np.int32(n)))
    padded = np.pad(x, 1)
    return y, padded[:-2] + padded[1:-1] + padded[2:]


@pytest.mark.parametrize("mode", ["plain", "asan", "tsan"])
def test_the_correct_stencil_passes_every_mode(load, mode):
    assert_parity("stencil", *stencil(load, "correct", mode), rtol=1e-6, atol=1e-6)


def test_parity_catches_an_off_by_one_index(load):
    y, expected = stencil(load, "off_by_one", "plain")
    with pytest.raises(AssertionError, match="stencil vs reference"):
        assert_parity("stencil", y, expected)


def test_thread_sanitizer_catches_a_missing_syncthreads(load):
    with pytest.raises(CudaEmulationError) as error:
        stencil(load, "missing_syncthreads", "tsan")
    report = str(error.value)
    assert "ThreadSanitizer: data race" in report and "stencil" in report
    assert "'stencil::tile'" in report  # the race is on the shared tile
    assert "missing_syncthreads.cu:" in report


def test_address_sanitizer_catches_an_out_of_bounds_halo_read(load):
    with pytest.raises(CudaEmulationError) as error:
        stencil(load, "halo_out_of_bounds", "asan")
    report = str(error.value)
    assert "AddressSanitizer: heap-buffer-overflow" in report and "in stencil" in report
    assert "halo_out_of_bounds.cu:8" in report  # the line of the halo load
    assert "block (1, 0, 0), thread (63, 0, 0)" in report  # the CUDA thread, not just an OS thread


def test_memcheck_catches_shared_memory_out_of_bounds(load):
    # UBSan's bounds check or ASan's redzones between shared arrays, whichever sees it first
    with pytest.raises(CudaEmulationError, match="index 32 out of bounds|global-buffer-overflow"):
        load("features", "asan").get_function("shared_out_of_bounds")(1, 33, (empty(33),))


@pytest.mark.parametrize("mode", ["plain", "tsan"])
def test_block_sum_with_shared_memory_shuffles_and_atomics(load, mode):
    x = np.random.default_rng(1).standard_normal(3000).astype(np.float32)
    out = np.zeros(1, np.float32)
    load("features", mode).get_function("block_sum")(3, 256, (x, out, np.int32(x.size)))
    np.testing.assert_allclose(out[0], x.sum(dtype=np.float64), rtol=1e-5)


def test_warp_shuffles_and_ballot_follow_cuda_semantics(load):
    x = np.random.default_rng(2).integers(0, 100, 64).astype(np.int32)
    out = empty((64, 4), np.int32)
    load("features", "plain").get_function("warp_ops")(1, 64, (x, out))
    lane = np.arange(64) % 32
    warp_start = np.arange(64) - lane
    group_start = np.arange(64) - lane % 8
    np.testing.assert_array_equal(out[:, 0], x[warp_start + (lane ^ 5)])
    np.testing.assert_array_equal(out[:, 1], np.where(lane % 8 < 3, x, x[np.arange(64) - 3]))
    np.testing.assert_array_equal(out[:, 2], x[group_start + 7 - lane % 8])
    ballots = [sum(1 << k for k in range(32) if x[w * 32 + k] % 3 == 0) for w in (0, 1)]
    np.testing.assert_array_equal(out[:, 3].view(np.uint32), np.repeat(ballots, 32))


def test_atomics_are_race_free_and_plain_increments_are_a_race(load):
    bins = np.random.default_rng(3).integers(0, 5, 500).astype(np.int32)
    counts = np.zeros(5, np.int32)
    load("features", "tsan").get_function("histogram_atomic")(2, 128, (bins, counts, np.int32(bins.size)))
    np.testing.assert_array_equal(counts, np.bincount(bins, minlength=5))
    with pytest.raises(CudaEmulationError, match="data race"):
        load("features", "tsan").get_function("histogram_racy")(2, 128, (bins, counts, np.int32(bins.size)))


def test_unwritten_shared_memory_reads_as_nan(load):
    y = np.zeros(64, np.float32)
    load("features", "plain").get_function("unwritten_shared")(1, 64, (y,))
    assert np.isnan(y[1::2]).all() and (y[::2] == 1).all()
    with pytest.raises(AssertionError, match="read of __shared__ memory that no thread wrote"):
        assert_parity("unwritten_shared", y, np.ones(64, np.float32))


def test_a_shuffle_from_a_lane_that_does_not_exist_reads_nan(load):
    y = np.zeros(40, np.float32)  # the second warp has 8 lanes
    load("features", "plain").get_function("shuffle_past_the_block")(1, 40, (y,))
    assert (y[:32] == 1).all()  # lanes 16-31 of the full warp keep their own value
    assert np.isnan(y[32:]).all()  # lane 16 of the second warp does not exist: undefined


def test_sanitizer_modes_run_the_blocks_in_reverse_order(load):
    # blocks run one at a time (races between blocks are invisible to TSan); a result that
    # depends on their order differs between the plain and the sanitizer modes
    results = {}
    for mode in ("plain", "tsan"):
        out = empty(1, np.int32)
        load("features", mode).get_function("last_block_wins")(3, 32, (out,))
        results[mode] = int(out[0])
    assert results == {"plain": 2, "tsan": 0}


def test_threads_waiting_at_different_syncthreads_are_an_error(load):
    with pytest.raises(CudaEmulationError, match="different __syncthreads"):
        load("features", "plain").get_function("divergent_syncthreads")(1, 64, (empty(1),))


def test_a_deadlocked_block_is_reported_not_hung(sources, monkeypatch):
    monkeypatch.setenv("DEEPCORE_CUDA_EMU_TIMEOUT", "2")
    module = EmulatedModule(sources / "features.cu", "plain")
    try:
        with pytest.raises(CudaEmulationError, match="did not finish within 2 s"):
            module.get_function("deadlock")(1, 64, (empty(1),))
    finally:
        module.close()


@pytest.mark.parametrize("code, message", [
    ('asm("exit;");', "inline_ptx_is_not_emulated"),
    ("extern __shared__ float dynamic[]; dynamic[0] = 1.0f;", "conflicting specifiers|multiple storage classes"),
    ("unsigned active = __activemask();", "__activemask"),
])
def test_what_cannot_be_emulated_does_not_compile(tmp_path, code, message):
    (tmp_path / "unsupported.cu").write_text(f'extern "C" __global__ void k(float* y) {{ {code} }}\n')
    with pytest.raises(CudaEmulationError, match=message):
        EmulatedModule(tmp_path / "unsupported.cu", "plain")


def test_signatures_are_parsed_from_the_source():
    kernels = parse_kernels("""
        // extern "C" __global__ void commented_out(int n);
        extern "C" __global__ void __launch_bounds__(128) a(const float* __restrict__ x, float *y, const int n,
                                                            unsigned int flags, float epsilon) {}
        extern "C" __global__ void b(float* const* weights, const float* const* grads, const int* offsets) {}
        extern "C" __global__ void c() {}
    """)
    assert list(kernels) == ["a", "b", "c"]
    a = kernels["a"]
    assert a.max_threads == 128
    assert [p.ctype for p in a.parameters] == ["const float*", "float*", "int", "unsigned int", "float"]
    assert [(p.indirection, p.const) for p in a.parameters] == [(1, True), (1, False), (0, False), (0, False),
                                                                (0, False)]
    assert [p.ctype for p in kernels["b"].parameters] == ["float* const*", "const float* const*", "const int*"]
    assert kernels["c"].parameters == ()


@pytest.mark.parametrize("args, block, error, message", [
    ((np.zeros(4, np.float64), empty(4), np.int32(4)), 64, TypeError, "expected dtype float32"),
    ((np.zeros(4, np.float32), empty(4), 4), 64, TypeError, "numpy.int32"),
    ((np.zeros(4, np.float32), empty(4)), 64, ValueError, "takes 3 arguments"),
    ((np.zeros(8, np.float32)[::2], empty(4), np.int32(4)), 64, TypeError, "C-contiguous"),
    ((np.zeros(4, np.float32), empty(4), np.int32(4)), 2048, ValueError, "launch limits"),
])
def test_launches_are_checked_as_the_gpu_would(load, args, block, error, message):
    with pytest.raises(error, match=message):
        load("correct", "plain").get_function("stencil")(1, block, args)
