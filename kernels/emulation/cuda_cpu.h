// cuda_cpu.h: compile the unchanged kernels/*.cu with g++ -std=c++20 and run them on the CPU.
//
// One OS thread per CUDA thread. The blocks of a launch run one after another;
// all threads of the running block are alive at once, so
//   __shared__        is a process-wide static (one block owns it at a time), kept in
//                     the section `cudaemu_shared`, which is filled with 0xFF bytes
//                     (NaN for floats, -1 for ints) before every block so that a read of
//                     shared memory no thread wrote shows up as a NaN in the output;
//   __syncthreads()   is a std::barrier over the block's threads, and all threads of a
//                     phase must wait at the same __syncthreads() (else: an error);
//   __shfl_*_sync     go through a per-warp exchange buffer between two warp barriers;
//   atomic*           are GCC __atomic builtins (what std::atomic_ref is made of).
// A thread that returns leaves the barriers, as exited threads do on the GPU. Built with
// -fsanitize=address or -fsanitize=thread, the same code finds out-of-bounds accesses
// and missing barriers (data races) the way compute-sanitizer's memcheck and racecheck
// would.
//
// Only what is emulated faithfully is defined here. Anything else a kernel uses (inline
// PTX, tensor-core mma, dynamic `extern __shared__`, cooperative groups, half types,
// __activemask) is a compile error, never a silent approximation. Known differences:
// __expf and friends are the exact libm functions; g++ does not contract a*b+c into an
// FMA as nvcc does; warp lanes are not lock-step (as on Volta and later), so
// warp-synchronous code without __syncwarp() is reported as a race.
//
// This header is kept light (it is parsed once per kernel file and mode); the thread
// machinery is in cuda_cpu_runtime.cpp, compiled once per mode.
#pragma once

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <type_traits>

// ---------------------------------------------------------------- qualifiers
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __constant__ const  // a __constant__ array must have an initializer: nothing sets it later
#define __shared__ __attribute__((section("cudaemu_shared"))) static
// Inline PTX cannot be emulated: a kernel that uses it needs a plain-CUDA twin.
#define asm cudaemu_error_inline_ptx_is_not_emulated
#define __asm cudaemu_error_inline_ptx_is_not_emulated
#define __asm__ cudaemu_error_inline_ptx_is_not_emulated

// The section holding every __shared__ variable; the anchor makes sure it exists.
__attribute__((section("cudaemu_shared"), used)) static char cudaemu_shared_anchor;

// ---------------------------------------------------------------- vector types
struct uint3 { unsigned x, y, z; };
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return {x, y, z}; }
};
struct __attribute__((aligned(8))) float2 { float x, y; };
struct float3 { float x, y, z; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct int3 { int x, y, z; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned x, y; };
struct __attribute__((aligned(16))) uint4 { unsigned x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float3 make_float3(float x, float y, float z) { return {x, y, z}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int3 make_int3(int x, int y, int z) { return {x, y, z}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

// ---------------------------------------------------------------- built-in variables
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

// ---------------------------------------------------------------- the runtime (cuda_cpu_runtime.cpp)
namespace cudaemu {

enum class Collective { shfl, shfl_up, shfl_down, shfl_xor, ballot, all, sync };

void syncthreads(const char* file, unsigned line);
// Every lane of the warp that still runs publishes `value`; returns what `op` gives this lane.
uint64_t warp_collective(Collective op, unsigned mask, uint64_t value, int argument, int width);
// kernel<<<grid, block>>>: `call(params)` runs the kernel with params[i] pointing at the
// i-th argument (as cuLaunchKernel's kernelParams); kinds[i] is 's' scalar, 'r' read-only
// array, 'w' written array, 't' table of arrays; sizes[i] the bytes an array argument spans.
int run(const char* kernel, void (*call)(void* const*), const char* kinds, const unsigned* grid,
        const unsigned* block, void** params, const size_t* sizes);

template <typename T>
uint64_t to_bits(T value) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp collective on an unsupported type");
    uint64_t bits = 0;
    __builtin_memcpy(&bits, &value, sizeof(T));
    return bits;
}
template <typename T>
T from_bits(uint64_t bits) {
    T value;
    __builtin_memcpy(&value, &bits, sizeof(T));
    return value;
}

}  // namespace cudaemu

// ---------------------------------------------------------------- synchronisation
inline void __syncthreads(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) {
    cudaemu::syncthreads(file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
    cudaemu::warp_collective(cudaemu::Collective::sync, mask, 0, 0, warpSize);
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// A lane that reads an inactive lane gets an undefined value on the GPU: here all-ones
// bits (NaN for floats), so that using it shows up in the results.
template <typename T>
T __shfl_sync(unsigned mask, T value, int source_lane, int width = warpSize) {
    return cudaemu::from_bits<T>(cudaemu::warp_collective(cudaemu::Collective::shfl, mask, cudaemu::to_bits(value),
                                                          source_lane, width));
}
template <typename T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = warpSize) {
    return cudaemu::from_bits<T>(cudaemu::warp_collective(cudaemu::Collective::shfl_up, mask,
                                                          cudaemu::to_bits(value), int(delta), width));
}
template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = warpSize) {
    return cudaemu::from_bits<T>(cudaemu::warp_collective(cudaemu::Collective::shfl_down, mask,
                                                          cudaemu::to_bits(value), int(delta), width));
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = warpSize) {
    return cudaemu::from_bits<T>(cudaemu::warp_collective(cudaemu::Collective::shfl_xor, mask,
                                                          cudaemu::to_bits(value), lane_mask, width));
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
    return unsigned(cudaemu::warp_collective(cudaemu::Collective::ballot, mask, predicate != 0, 0, warpSize));
}
inline int __any_sync(unsigned mask, int predicate) { return __ballot_sync(mask, predicate) != 0; }
inline int __all_sync(unsigned mask, int predicate) {
    return int(cudaemu::warp_collective(cudaemu::Collective::all, mask, predicate != 0, 0, warpSize));
}

// ---------------------------------------------------------------- atomics (return the old value)
template <typename T>
T atomicCAS(T* address, T expected, T desired) {
    __atomic_compare_exchange(address, &expected, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
// Any read-modify-write as a compare-and-swap loop (floating point has no fetch_add builtin).
template <typename T, typename Update>
T atomic_update(T* address, Update update) {
    T old;
    __atomic_load(address, &old, __ATOMIC_SEQ_CST);
    T desired = update(old);
    while (!__atomic_compare_exchange(address, &old, &desired, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        desired = update(old);
    return old;
}
template <typename T>
T atomicAdd(T* address, T value) { return atomic_update(address, [&](T old) { return T(old + value); }); }
template <typename T>
T atomicSub(T* address, T value) { return atomic_update(address, [&](T old) { return T(old - value); }); }
template <typename T>
T atomicExch(T* address, T value) { return atomic_update(address, [&](T) { return value; }); }
template <typename T>
T atomicMax(T* address, T value) {
    static_assert(std::is_integral_v<T>, "CUDA has no floating-point atomicMax");
    return atomic_update(address, [&](T old) { return old < value ? value : old; });
}
template <typename T>
T atomicMin(T* address, T value) {
    static_assert(std::is_integral_v<T>, "CUDA has no floating-point atomicMin");
    return atomic_update(address, [&](T old) { return old > value ? value : old; });
}
template <typename T>
T atomicAnd(T* address, T value) { return atomic_update(address, [&](T old) { return T(old & value); }); }
template <typename T>
T atomicOr(T* address, T value) { return atomic_update(address, [&](T old) { return T(old | value); }); }
template <typename T>
T atomicXor(T* address, T value) { return atomic_update(address, [&](T old) { return T(old ^ value); }); }

// ---------------------------------------------------------------- math and bit intrinsics
// The fast-math intrinsics are the exact functions: parity tolerances cover the GPU's error.
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fsub_rn(float x, float y) { return x - y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fdiv_rn(float x, float y) { return x / y; }
inline float __fmaf_rn(float x, float y, float z) { return fmaf(x, y, z); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  // NaN -> 0
inline int __float_as_int(float x) { return __builtin_bit_cast(int, x); }
inline unsigned __float_as_uint(float x) { return __builtin_bit_cast(unsigned, x); }
inline float __int_as_float(int x) { return __builtin_bit_cast(float, x); }
inline float __uint_as_float(unsigned x) { return __builtin_bit_cast(float, x); }
inline int __float2int_rn(float x) { return int(nearbyintf(x)); }
inline int __float2int_rz(float x) { return int(truncf(x)); }
inline int __float2int_rd(float x) { return int(floorf(x)); }
inline int __float2int_ru(float x) { return int(ceilf(x)); }
inline float __int2float_rn(int x) { return float(x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
    unsigned r = 0;
    for (int i = 0; i < 32; ++i) r |= (x >> i & 1u) << (31 - i);
    return r;
}
template <typename T>
T __ldg(const T* address) { return *address; }

// CUDA's min/max: overloaded for every arithmetic pair (floating point as fminf/fmaxf).
template <typename A, typename B>
    requires std::is_arithmetic_v<A> && std::is_arithmetic_v<B>
constexpr std::common_type_t<A, B> max(A a, B b) {
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<C>) return fmax(C(a), C(b));
    else return C(a) > C(b) ? C(a) : C(b);
}
template <typename A, typename B>
    requires std::is_arithmetic_v<A> && std::is_arithmetic_v<B>
constexpr std::common_type_t<A, B> min(A a, B b) {
    using C = std::common_type_t<A, B>;
    if constexpr (std::is_floating_point_v<C>) return fmin(C(a), C(b));
    else return C(a) < C(b) ? C(a) : C(b);
}
