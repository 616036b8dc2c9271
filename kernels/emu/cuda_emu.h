// cuda_emu.h: host emulation of the CUDA C++ subset that kernels/cu may use (kernels/README.md lists it).
//
// The very .cu sources NVRTC compiles are compiled by g++ with this header force-included, into one shared
// library per .cu file that EmulatedDevice loads. Execution model:
//   - blocks run one after another on the calling OS thread;
//   - each CUDA thread of a block is a cooperative fiber with its own stack (a hand-rolled x86-64 context switch,
//     ucontext elsewhere); a fiber runs until it reaches a barrier or a warp-collective, then switches directly to
//     the next live fiber of the block (round-robin; ~30-50 ns per thread per barrier on x86-64);
//   - __syncthreads waits for every live thread of the block, warp collectives (__shfl*_sync, __ballot_sync,
//     __syncwarp, votes) for every live lane of the warp, so shuffles and votes see the values the GPU would;
//   - threads that have returned no longer take part (as on sm_70+), so early exits before a barrier do not hang;
//   - a round of the scheduler in which no fiber moves is a deadlock (e.g. __syncthreads in divergent code) and
//     fails the launch with a message naming the kernel;
//   - __shared__ is a static thread_local (one copy per launching OS thread, reused block after block, like the
//     hardware's garbage); dynamic shared memory is refilled with NaN bytes before every block.
// Memory is host memory; EmulatedDevice adds poison and red zones around every allocation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

// ---- qualifiers -------------------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __shared__ static thread_local
#define __constant__ static
#define __CUDA_EMU__ 1

// ---- vector types -----------------------------------------------------------------------------------------------
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 { unsigned int x, y, z; };

#define EMU_VEC2(T, N) struct alignas(2 * sizeof(T)) N { T x, y; }; \
    inline N make_##N(T x, T y) { return N{x, y}; }
#define EMU_VEC4(T, N) struct alignas(4 * sizeof(T)) N { T x, y, z, w; }; \
    inline N make_##N(T x, T y, T z, T w) { return N{x, y, z, w}; }
EMU_VEC2(float, float2) EMU_VEC4(float, float4)
EMU_VEC2(int, int2) EMU_VEC4(int, int4)
EMU_VEC2(unsigned int, uint2) EMU_VEC4(unsigned int, uint4)
EMU_VEC2(unsigned short, ushort2) EMU_VEC4(unsigned short, ushort4)
#undef EMU_VEC2
#undef EMU_VEC4

constexpr int warpSize = 32;

// The current thread's coordinates. thread_local because tests launch from several OS threads at once; every
// switch rewrites threadIdx to the fiber it resumes.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

namespace emu {

// ---- context switch -----------------------------------------------------------------------------------------------
#if defined(__x86_64__)
// emu_switch(from, to): saves the callee-saved registers on the current stack, stores the stack pointer in *from,
// loads `to` and pops its registers. A new fiber's stack is laid out so that the first switch "returns" into
// fiber_entry. System V: rbx, rbp, r12-r15 are callee-saved; MXCSR/x87 control words are left shared (the kernels
// never change rounding modes).
extern "C" void emu_switch(void** from, void* to);
asm(R"(
    .text
    .p2align 4
    .hidden emu_switch
    .type emu_switch,@function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch, .-emu_switch
)");
#endif

struct Fiber {
#if defined(__x86_64__)
    void* sp = nullptr;
#else
    ucontext_t ctx;
#endif
    uint3 idx{};
    int warp = 0;
    int lane = 0;
    bool done = false;
    unsigned collective_seq = 0;  // which of the two warp exchange buffers the next collective uses
};

struct Warp {
    int live = 0;             // lanes that have not returned
    int arrived = 0;
    unsigned generation = 0;
    unsigned long long slots[2][32];  // exchange buffers for shuffles and votes, double-buffered
};

enum Status { kOk = 0, kError = 1 };

struct Launch {
    const char* kernel = "";
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    int live = 0;
    int arrived = 0;          // at __syncthreads
    unsigned generation = 0;
    bool progress = false;    // some fiber arrived at a barrier or returned during this round-robin round
    bool failed = false;
    std::string error;
    Fiber* current = nullptr;
#if defined(__x86_64__)
    void* scheduler_sp = nullptr;
#else
    ucontext_t scheduler_ctx;
#endif
    void (*body)(void*) = nullptr;
    void* body_arg = nullptr;
};

inline thread_local Launch* tl_launch = nullptr;

// Fiber stacks: one mapping per OS thread, grown on demand, a PROT_NONE guard page under each stack so an
// overflow faults instead of corrupting a neighbour.
struct StackPool {
    static constexpr size_t kStackBytes = 128 * 1024;
    static constexpr size_t kGuardBytes = 4096;
    char* base = nullptr;
    size_t count = 0;
    ~StackPool() { if (base) munmap(base, count * (kStackBytes + kGuardBytes)); }
    char* top_of(size_t i) { return base + (i + 1) * (kStackBytes + kGuardBytes); }
    bool reserve(size_t n) {
        if (n <= count) return true;
        if (base) munmap(base, count * (kStackBytes + kGuardBytes));
        size_t bytes = n * (kStackBytes + kGuardBytes);
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) { base = nullptr; count = 0; return false; }
        base = static_cast<char*>(p);
        count = n;
        for (size_t i = 0; i < n; i++) mprotect(base + i * (kStackBytes + kGuardBytes), kGuardBytes, PROT_NONE);
        return true;
    }
};
inline thread_local StackPool tl_stacks;
inline thread_local std::vector<unsigned char> tl_dynamic_shared;

inline void switch_fibers(Fiber& from, Fiber& to) {
#if defined(__x86_64__)
    emu_switch(&from.sp, to.sp);
#else
    swapcontext(&from.ctx, &to.ctx);
#endif
}

inline void switch_to_scheduler(Fiber& f) {
    Launch& L = *tl_launch;
#if defined(__x86_64__)
    emu_switch(&f.sp, L.scheduler_sp);
#else
    swapcontext(&f.ctx, &L.scheduler_ctx);
#endif
}

// Records the first error and parks the fiber for good; the scheduler stops the launch.
[[noreturn]] inline void fail(const std::string& message) {
    Launch& L = *tl_launch;
    if (!L.failed) { L.failed = true; L.error = message; }
    for (;;) switch_to_scheduler(*L.current);
}

// The next live fiber after `from` in round-robin order. Passing the end of the list closes a round: a round in which
// no fiber arrived at a barrier or returned is a deadlock.
inline Fiber& next_fiber(Launch& L, Fiber& from) {
    const size_t n = L.fibers.size();
    size_t i = static_cast<size_t>(&from - L.fibers.data());
    for (;;) {
        if (++i == n) {
            i = 0;
            if (!L.progress)
                fail(std::string("kernel ") + L.kernel + ": deadlock in block (" + std::to_string(blockIdx.x) + "," +
                     std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + "): " + std::to_string(L.live) +
                     " threads wait at barriers that can never complete (__syncthreads or a warp collective in divergent code?)");
            L.progress = false;
        }
        if (!L.fibers[i].done) return L.fibers[i];
    }
}

// Hands the OS thread to the next live fiber directly (one context switch, no trip through the scheduler).
inline void yield() {
    Launch& L = *tl_launch;
    Fiber& from = *L.current;
    Fiber& to = next_fiber(L, from);
    if (&to != &from) {
        L.current = &to;
        threadIdx = to.idx;
        switch_fibers(from, to);
    }
    asm volatile("" ::: "memory");  // other fibers wrote shared memory meanwhile
}

inline void fiber_exit(Fiber& f) {
    Launch& L = *tl_launch;
    f.done = true;
    L.progress = true;
    L.live--;
    Warp& w = L.warps[f.warp];
    w.live--;
    // A returned thread no longer holds up barriers it will never reach.
    if (w.live > 0 && w.arrived == w.live) { w.arrived = 0; w.generation++; }
    if (L.live > 0 && L.arrived == L.live) { L.arrived = 0; L.generation++; }
}

inline void fiber_entry() {
    Launch& L = *tl_launch;
    L.body(L.body_arg);
    Fiber& self = *L.current;
    fiber_exit(self);
    if (L.live == 0) switch_to_scheduler(self);  // the block is done
    Fiber& to = next_fiber(L, self);
    L.current = &to;
    threadIdx = to.idx;
    switch_fibers(self, to);  // never resumed: a done fiber is skipped
    for (;;) switch_to_scheduler(self);
}

#if !defined(__x86_64__)
inline void fiber_entry_uctx() { fiber_entry(); }
#endif

// __syncthreads: waits until every live thread of the block has arrived.
inline void block_barrier() {
    Launch& L = *tl_launch;
    unsigned gen = L.generation;
    L.progress = true;
    if (++L.arrived == L.live) { L.arrived = 0; L.generation++; return; }
    while (L.generation == gen) yield();
}

// Waits until every live lane of the calling warp has arrived. Only full-warp masks (of the live lanes) are
// supported: the kernels keep warps converged at collectives, and a partial mask fails the launch.
inline void warp_barrier(unsigned mask) {
    Launch& L = *tl_launch;
    Fiber& f = *L.current;
    if (!(mask >> f.lane & 1u)) fail(std::string("kernel ") + L.kernel + ": warp collective called by a lane outside its own mask");
    Warp& w = L.warps[f.warp];
    unsigned gen = w.generation;
    L.progress = true;
    if (++w.arrived == w.live) { w.arrived = 0; w.generation++; return; }
    while (w.generation == gen) yield();
}

// Every live lane deposits `value`, the warp meets, then each lane reads the buffer through `read`.
template <class T, class Read>
inline auto warp_exchange(unsigned mask, T value, Read read) {
    static_assert(sizeof(T) <= 8, "warp collectives move at most 8 bytes per lane");
    Launch& L = *tl_launch;
    Fiber& f = *L.current;
    Warp& w = L.warps[f.warp];
    unsigned long long(&slots)[32] = w.slots[f.collective_seq++ & 1];
    unsigned long long bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    slots[f.lane] = bits;
    warp_barrier(mask);
    return read(slots, f.lane, w);
}

template <class T>
inline T shfl_from(unsigned mask, T value, int src_lane) {
    return warp_exchange(mask, value, [&](unsigned long long(&slots)[32], int, Warp&) {
        T out;
        std::memcpy(&out, &slots[src_lane], sizeof(T));
        return out;
    });
}

inline unsigned ballot(unsigned mask, bool predicate) {
    return warp_exchange(mask, (unsigned long long)(predicate ? 1 : 0), [&](unsigned long long(&slots)[32], int, Warp& w) {
        unsigned result = 0;
        Launch& L = *tl_launch;
        int first = static_cast<int>(&w - L.warps.data()) * 32;
        for (int lane = 0; lane < 32; lane++) {
            int t = first + lane;
            if (t < (int)L.fibers.size() && !L.fibers[t].done && slots[lane]) result |= 1u << lane;
        }
        return result & mask;
    });
}

inline void* dynamic_shared() { return tl_dynamic_shared.data(); }

// Runs one block: creates a fiber per thread and schedules them round-robin until all have returned.
inline bool run_block(Launch& L, unsigned nthreads) {
    L.fibers.assign(nthreads, Fiber{});
    L.warps.assign((nthreads + 31) / 32, Warp{});
    L.live = (int)nthreads;
    L.arrived = 0;
    L.generation = 0;
    if (!tl_stacks.reserve(nthreads)) { L.failed = true; L.error = "out of memory for fiber stacks"; return false; }
    for (unsigned t = 0; t < nthreads; t++) {
        Fiber& f = L.fibers[t];
        f.idx = uint3{t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
        f.warp = (int)(t / 32);
        f.lane = (int)(t % 32);
        L.warps[f.warp].live++;
        char* top = tl_stacks.top_of(t);
#if defined(__x86_64__)
        // [sp .. sp+48): six callee-saved registers (zero), [sp+48]: return address = fiber_entry. After the
        // first switch rsp = sp + 56 = 8 mod 16, the alignment a function sees on entry.
        void** sp = reinterpret_cast<void**>(top - 64);
        for (int r = 0; r < 6; r++) sp[r] = nullptr;
        sp[6] = reinterpret_cast<void*>(&fiber_entry);
        sp[7] = nullptr;
        f.sp = sp;
#else
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = top - StackPool::kStackBytes;
        f.ctx.uc_stack.ss_size = StackPool::kStackBytes;
        f.ctx.uc_link = nullptr;
        makecontext(&f.ctx, fiber_entry_uctx, 0);
#endif
    }
    // Start fiber 0; fibers hand over to each other until the last returns (or one fails), then come back here.
    L.progress = false;
    L.current = &L.fibers[0];
    threadIdx = L.fibers[0].idx;
#if defined(__x86_64__)
    emu_switch(&L.scheduler_sp, L.fibers[0].sp);
#else
    swapcontext(&L.scheduler_ctx, &L.fibers[0].ctx);
#endif
    L.current = nullptr;
    return !L.failed;
}

// ---- launch and registration --------------------------------------------------------------------------------------
using Invoker = void (*)(void** params);

struct KernelEntry {
    const char* name;
    Invoker invoke;
    int arity;
    const int* arg_sizes;
};

template <class F> struct Trampoline;
template <class... Args> struct Trampoline<void (*)(Args...)> {
    static constexpr int arity = sizeof...(Args);
    static constexpr int sizes[sizeof...(Args) + 1] = {(int)sizeof(Args)..., 0};
    template <void (*K)(Args...), size_t... I>
    static void call(void** params, std::index_sequence<I...>) {
        K(*static_cast<std::remove_reference_t<Args>*>(params[I])...);
    }
    template <void (*K)(Args...)>
    static void invoke(void** params) { call<K>(params, std::index_sequence_for<Args...>{}); }
};

inline int launch(const KernelEntry& k, const unsigned* grid, const unsigned* block, unsigned shared_bytes, void** params,
                  char* error, int error_capacity) {
    auto report = [&](const std::string& message) {
        std::snprintf(error, (size_t)error_capacity, "%s", message.c_str());
        return (int)kError;
    };
    unsigned nthreads = block[0] * block[1] * block[2];
    if (block[0] == 0 || block[1] == 0 || block[2] == 0 || grid[0] == 0 || grid[1] == 0 || grid[2] == 0)
        return report(std::string("kernel ") + k.name + ": zero grid or block dimension");
    if (nthreads > 1024 || block[2] > 64)
        return report(std::string("kernel ") + k.name + ": block of " + std::to_string(nthreads) + " threads (max 1024, z <= 64)");
    if (grid[1] > 65535 || grid[2] > 65535)
        return report(std::string("kernel ") + k.name + ": grid y/z above 65535");
    if (shared_bytes > 227 * 1024)
        return report(std::string("kernel ") + k.name + ": " + std::to_string(shared_bytes) + " bytes of dynamic shared memory (max 227 KiB)");

    Launch L;
    L.kernel = k.name;
    struct Ctx { const KernelEntry* k; void** params; } ctx{&k, params};
    L.body = [](void* p) { auto* c = static_cast<Ctx*>(p); c->k->invoke(c->params); };
    L.body_arg = &ctx;
    Launch* outer = tl_launch;
    tl_launch = &L;
    gridDim = dim3(grid[0], grid[1], grid[2]);
    blockDim = dim3(block[0], block[1], block[2]);
    tl_dynamic_shared.resize(std::max(16u, shared_bytes));
    bool ok = true;
    for (unsigned z = 0; z < grid[2] && ok; z++)
        for (unsigned y = 0; y < grid[1] && ok; y++)
            for (unsigned x = 0; x < grid[0] && ok; x++) {
                blockIdx = uint3{x, y, z};
                std::memset(tl_dynamic_shared.data(), 0xFF, tl_dynamic_shared.size());
                ok = run_block(L, nthreads);
            }
    tl_launch = outer;
    return ok ? (int)kOk : report(L.error);
}

}  // namespace emu

// ---- CUDA built-ins ---------------------------------------------------------------------------------------------
inline void __syncthreads() { emu::block_barrier(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { emu::warp_barrier(mask); }
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    int lane = emu::tl_launch->current->lane;
    int target = (lane & ~(width - 1)) + (src & (width - 1));
    return emu::shfl_from(mask, v, target);
}
template <class T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    int lane = emu::tl_launch->current->lane;
    int target = lane ^ lane_mask;
    if ((target & ~(width - 1)) != (lane & ~(width - 1))) target = lane;
    return emu::shfl_from(mask, v, target);
}
template <class T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    int lane = emu::tl_launch->current->lane;
    int target = lane + (int)delta;
    if ((target & ~(width - 1)) != (lane & ~(width - 1))) target = lane;  // out of the segment: own value
    return emu::shfl_from(mask, v, target);
}
template <class T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    int lane = emu::tl_launch->current->lane;
    int target = lane - (int)delta;
    if (target < (lane & ~(width - 1))) target = lane;
    return emu::shfl_from(mask, v, target);
}
inline unsigned __ballot_sync(unsigned mask, int predicate) { return emu::ballot(mask, predicate != 0); }
inline int __all_sync(unsigned mask, int predicate) {
    unsigned b = emu::ballot(mask, predicate != 0);
    unsigned live = emu::ballot(mask, true);
    return b == live;
}
inline int __any_sync(unsigned mask, int predicate) { return emu::ballot(mask, predicate != 0) != 0; }
inline unsigned __activemask() { return emu::ballot(0xffffffffu, true); }

// Atomics: the fibers of a block never run at the same time and blocks run one after another, so a plain
// read-modify-write is atomic here.
template <class T> inline T atomicAdd(T* address, T value) { T old = *address; *address = old + value; return old; }
template <class T> inline T atomicSub(T* address, T value) { T old = *address; *address = old - value; return old; }
template <class T> inline T atomicMax(T* address, T value) { static_assert(std::is_integral_v<T>, "CUDA has no float atomicMax"); T old = *address; *address = std::max(old, value); return old; }
template <class T> inline T atomicMin(T* address, T value) { static_assert(std::is_integral_v<T>, "CUDA has no float atomicMin"); T old = *address; *address = std::min(old, value); return old; }
template <class T> inline T atomicExch(T* address, T value) { T old = *address; *address = value; return old; }
template <class T> inline T atomicCAS(T* address, T compare, T value) { T old = *address; if (old == compare) *address = value; return old; }

// ---- math intrinsics ---------------------------------------------------------------------------------------------
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline void sincosf(float x, float* s, float* c) { *s = std::sin(x); *c = std::cos(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
// IEEE single operations that the CUDA compiler must not contract into an fma (g++ here targets x86-64 without FMA,
// so plain operators round each step already).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline unsigned __float_as_uint(float x) { unsigned u; std::memcpy(&u, &x, 4); return u; }
inline float __uint_as_float(unsigned u) { float x; std::memcpy(&x, &u, 4); return x; }
inline int __float_as_int(float x) { int u; std::memcpy(&u, &x, 4); return u; }
inline float __int_as_float(int u) { float x; std::memcpy(&x, &u, 4); return x; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(unsigned x) { return x ? __builtin_clz(x) : 32; }
inline int __ffs(unsigned x) { return __builtin_ffs((int)x); }
template <class T> inline T __ldg(const T* p) { return *p; }

// CUDA's global min/max overloads (host C++ has only std::min/std::max).
#define EMU_MINMAX(T) inline T min(T a, T b) { return a < b ? a : b; } inline T max(T a, T b) { return a > b ? a : b; }
EMU_MINMAX(int) EMU_MINMAX(unsigned int) EMU_MINMAX(long long) EMU_MINMAX(unsigned long long)
#undef EMU_MINMAX
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }

// ---- registration table (used by the generated wrapper .cpp, one per .cu) -----------------------------------------
#define EMU_REGISTER(name) \
    {#name, &emu::Trampoline<decltype(&name)>::invoke<&name>, emu::Trampoline<decltype(&name)>::arity, emu::Trampoline<decltype(&name)>::sizes},

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

#define EMU_KERNEL_TABLE(...)                                                                                        \
    static const emu::KernelEntry emu_kernels[] = {__VA_ARGS__ {nullptr, nullptr, 0, nullptr}};                    \
    EMU_EXPORT int emu_kernel_count() { return (int)(sizeof(emu_kernels) / sizeof(emu_kernels[0])) - 1; }         \
    EMU_EXPORT const char* emu_kernel_name(int i) { return emu_kernels[i].name; }                                  \
    EMU_EXPORT int emu_kernel_arity(int i) { return emu_kernels[i].arity; }                                        \
    EMU_EXPORT const int* emu_kernel_arg_sizes(int i) { return emu_kernels[i].arg_sizes; }                         \
    EMU_EXPORT int emu_launch(int i, const unsigned* grid, const unsigned* block, unsigned shared_bytes,           \
                              void** params, char* error, int error_capacity) {                                    \
        return emu::launch(emu_kernels[i], grid, block, shared_bytes, params, error, error_capacity);              \
    }
