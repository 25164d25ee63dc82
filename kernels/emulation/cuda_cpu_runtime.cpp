// The thread machinery behind cuda_cpu.h: blocks, barriers, warp collectives, the launch.
// Compiled once per emulation mode (plain, asan, tsan) and linked into every kernel library.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "cuda_cpu.h"  // after the C++ library: it defines `asm` away

// Bounds of the section of __shared__ variables, set by the linker in each kernel library.
extern "C" char __start_cudaemu_shared[] __attribute__((visibility("hidden")));
extern "C" char __stop_cudaemu_shared[] __attribute__((visibility("hidden")));

namespace cudaemu {
namespace {

struct Warp;
struct Block;

struct ThreadContext {
    const char* kernel = nullptr;
    Block* block = nullptr;
    Warp* warp = nullptr;
    unsigned linear = 0;  // threadIdx flattened, x fastest
    unsigned lane = 0;
};
thread_local ThreadContext context;

void print_context() {
    std::fprintf(stderr, "cudaemu: kernel %s", context.kernel ? context.kernel : "?");
    if (context.block)
        std::fprintf(stderr, ", block (%u, %u, %u), thread (%u, %u, %u)", blockIdx.x, blockIdx.y, blockIdx.z,
                     threadIdx.x, threadIdx.y, threadIdx.z);
}

// Print where (kernel, block, thread) and what went wrong, then abort: the Python side
// runs every launch in a worker process and turns the abort into an exception.
[[noreturn]] __attribute__((format(printf, 1, 2))) void fail(const char* format, ...) {
    print_context();
    std::fprintf(stderr, ": ");
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
    std::abort();
}

// Two barrier phases per warp collective: after the first every lane has published its
// value (the completion step snapshots which lanes did), after the second every lane has
// read, so the buffer may be reused.
struct Warp {
    struct Publish {
        Warp* warp;
        void operator()() noexcept {
            if (warp->publish_next) warp->present = warp->arrived.exchange(0, std::memory_order_relaxed);
            warp->publish_next = !warp->publish_next;
        }
    };
    explicit Warp(unsigned lanes) : barrier(lanes, Publish{this}) {}
    std::barrier<Publish> barrier;
    uint64_t slot[32] = {};
    std::atomic<unsigned> arrived{0};
    unsigned present = 0;
    bool publish_next = true;
};

// Every thread records where it waits; all threads of a phase must wait at the same
// __syncthreads() (CUDA: "only if the conditional evaluates identically across the block").
// Threads that have returned no longer take part, as on the GPU.
struct Site {
    const char* file = nullptr;
    unsigned line = 0;
};
struct Block {
    struct SameSite {
        Block* block;
        void operator()() noexcept {
            Site first;
            for (Site& site : block->sites) {
                if (!site.file) continue;
                if (first.file && (site.line != first.line || std::strcmp(site.file, first.file)))
                    fail("threads of one block wait at different __syncthreads(): %s:%u and %s:%u", first.file,
                         first.line, site.file, site.line);
                first = site;
                site = {};
            }
        }
    };
    explicit Block(unsigned threads) : barrier(threads, SameSite{this}), sites(threads) {
        for (unsigned first = 0; first < threads; first += 32)
            warps.push_back(std::make_unique<Warp>(std::min(32u, threads - first)));
    }
    std::barrier<SameSite> barrier;
    std::vector<Site> sites;
    std::vector<std::unique_ptr<Warp>> warps;
};

// The lane whose value `op` reads, or the caller's own lane when the source is out of reach.
int source_lane(Collective op, int lane, int argument, int width) {
    const int group = lane & ~(width - 1);
    switch (op) {
        case Collective::shfl: return group + (argument & (width - 1));
        case Collective::shfl_up: return (lane & (width - 1)) < argument ? lane : lane - argument;
        case Collective::shfl_down: return (lane & (width - 1)) + argument >= width ? lane : lane + argument;
        case Collective::shfl_xor: {
            const int from = lane ^ argument;
            return from < 0 || from >= group + width ? lane : from;  // later groups are out of reach
        }
        default: return lane;
    }
}

const char* collective_name(Collective op) {
    static const char* const names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync",
                                        "__ballot_sync", "__all_sync", "__syncwarp"};
    return names[int(op)];
}

// Writes through volatile so the compiler cannot turn the loop into a memset that
// AddressSanitizer would check against the redzones between shared arrays.
__attribute__((no_sanitize_address)) void poison_shared_memory() {
    for (volatile char* byte = __start_cudaemu_shared; byte < __stop_cudaemu_shared; ++byte) *byte = '\xff';
}

// Blocks run one at a time, so races between blocks are invisible to ThreadSanitizer. The
// sanitizer modes at least run them in the opposite order to the plain mode: a kernel whose
// result depends on the order of its blocks then fails parity in one of the two.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kReverseBlocks = true;
#else
constexpr bool kReverseBlocks = false;
#endif

double watchdog_seconds() {
    const char* text = std::getenv("DEEPCORE_CUDA_EMU_TIMEOUT");
    return text ? std::atof(text) : 120.0;
}

// Under AddressSanitizer every array argument is copied into an allocation of exactly
// its size, so that one element past the end is a reported overflow whatever allocator
// the caller used. `holders` keep the copies' addresses that params then point at.
class ExactCopies {
  public:
    ExactCopies(const char* kinds, void** params, const size_t* sizes) {
#ifdef __SANITIZE_ADDRESS__
        const size_t count = std::strlen(kinds);
        holders_.resize(count);
        for (size_t i = 0; i < count; ++i) {
            if (kinds[i] == 's') continue;
            void* original = *static_cast<void**>(params[i]);
            holders_[i] = adopt(original, sizes[i], kinds[i] == 'w');
            params[i] = &holders_[i];
        }
#else
        (void)kinds, (void)params, (void)sizes;
#endif
    }
    ~ExactCopies() {
        for (Copy& c : copies_) {
            if (c.written && c.size) std::memcpy(c.original, c.copy, c.size);
            std::free(c.copy);
        }
    }

  private:
    struct Copy {
        void* original;
        void* copy;
        size_t size;
        bool written;
    };
    void* adopt(void* original, size_t size, bool written) {
        for (Copy& c : copies_)
            if (c.original == original) {  // one array passed twice: one copy
                c.written |= written;
                return c.copy;
            }
        void* copy = std::malloc(size);
        if (size) std::memcpy(copy, original, size);
        copies_.push_back({original, copy, size, written});
        return copy;
    }
    std::vector<Copy> copies_;
    std::vector<void*> holders_;
};

}  // namespace

void syncthreads(const char* file, unsigned line) {
    Block& block = *context.block;
    block.sites[context.linear] = {file, line};
    block.barrier.arrive_and_wait();
}

uint64_t warp_collective(Collective op, unsigned mask, uint64_t value, int argument, int width) {
    const char* what = collective_name(op);
    if (width < 1 || width > 32 || (width & (width - 1)))
        fail("%s: width %d is not a power of two in [1, 32]", what, width);
    Warp& warp = *context.warp;
    const unsigned lane = context.lane;
    if (!(mask >> lane & 1u)) fail("%s: calling lane %u is not in mask 0x%08x", what, lane, mask);
    warp.slot[lane] = value;
    warp.arrived.fetch_or(1u << lane, std::memory_order_relaxed);
    warp.barrier.arrive_and_wait();
    const unsigned taking_part = warp.present & mask;
    uint64_t result = 0;
    if (op == Collective::ballot || op == Collective::all) {
        unsigned bits = 0;
        for (unsigned other = 0; other < 32; ++other)
            if (taking_part >> other & 1u && warp.slot[other]) bits |= 1u << other;
        result = op == Collective::ballot ? bits : bits == taking_part;
    } else if (op != Collective::sync) {
        const int from = source_lane(op, int(lane), argument, width);
        result = warp.present >> from & 1u ? warp.slot[from] : ~uint64_t{0};
    }
    warp.barrier.arrive_and_wait();
    return result;
}

int run(const char* kernel, void (*call)(void* const*), const char* kinds, const unsigned* grid,
        const unsigned* block, void** params, const size_t* sizes) {
    const dim3 grid_shape(grid[0], grid[1], grid[2]), block_shape(block[0], block[1], block[2]);
    const unsigned threads = block_shape.x * block_shape.y * block_shape.z;
    const unsigned long long blocks = 1ull * grid_shape.x * grid_shape.y * grid_shape.z;
    context.kernel = kernel;
    if (!threads || threads > 1024 || !blocks)
        fail("block (%u, %u, %u) of grid (%u, %u, %u) is not launchable", block[0], block[1], block[2], grid[0],
             grid[1], grid[2]);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // A sanitizer report names OS threads: say which CUDA thread made the access.
    __sanitizer_set_death_callback([] {
        print_context();
        std::fprintf(stderr, ": made the access reported above\n");
    });
#endif
    ExactCopies copies(kinds, params, sizes);

    std::unique_ptr<Block> current = std::make_unique<Block>(threads);
    std::atomic<unsigned long long> running_block{0};
    poison_shared_memory();
    // Between blocks every thread waits here; the last one in sets up the next block.
    auto next_block = [&]() noexcept {
        current = std::make_unique<Block>(threads);
        poison_shared_memory();
        running_block.fetch_add(1);
    };
    std::barrier<decltype(next_block)> between_blocks(threads, next_block);

    std::mutex mutex;
    std::condition_variable finished_signal;
    unsigned finished = 0;

    auto run_thread = [&](unsigned linear) {
        context.kernel = kernel;
        threadIdx = {linear % block_shape.x, linear / block_shape.x % block_shape.y,
                     linear / (block_shape.x * block_shape.y)};
        blockDim = block_shape;
        gridDim = grid_shape;
        for (unsigned long long step = 0; step < blocks; ++step) {
            const unsigned long long b = kReverseBlocks ? blocks - 1 - step : step;
            blockIdx = {unsigned(b % grid_shape.x), unsigned(b / grid_shape.x % grid_shape.y),
                        unsigned(b / (1ull * grid_shape.x * grid_shape.y))};
            context.block = current.get();
            context.warp = current->warps[linear / 32].get();
            context.linear = linear;
            context.lane = linear % 32;
            call(params);
            context.warp->barrier.arrive_and_drop();
            context.block->barrier.arrive_and_drop();
            context.block = nullptr;
            between_blocks.arrive_and_wait();
        }
        std::lock_guard lock(mutex);
        if (++finished == threads) finished_signal.notify_one();
    };

    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(run_thread, t);
    {
        // A kernel whose threads wait at different barriers never finishes: say so.
        std::unique_lock lock(mutex);
        if (!finished_signal.wait_for(lock, std::chrono::duration<double>(watchdog_seconds()),
                                      [&] { return finished == threads; }))
            fail("%llu of %llu blocks done, the next did not finish within %g s (DEEPCORE_CUDA_EMU_TIMEOUT): "
                 "threads wait at a warp collective or __syncthreads() that other threads of the block or warp "
                 "never reach", running_block.load(), blocks, watchdog_seconds());
    }
    for (std::thread& t : pool) t.join();
    return 0;
}

}  // namespace cudaemu
