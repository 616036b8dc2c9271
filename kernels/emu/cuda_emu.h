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
//   - the order is seeded random (emu_launch's seed; 0 = in order): blocks run in a shuffled order, and the fibers of
//     a block in a order reshuffled every scheduler round, so code that depends on an order the GPU does not
//     promise gives different results for different seeds;
//   - static __shared__ lives in one per-library arena (the "emu_shared" section) and dynamic shared memory in its
//     own buffer; both are refilled with NaN bytes before every block, and launches of one library are serialised;
//   - checks the GPU would fail or leave undefined: warp collectives whose mask names exited (or absent) lanes,
//     __syncthreads reached from different source lines in one generation, misaligned vector (float4, uint2, ...)
//     loads and stores, and, with kCheckRaces, two threads writing the same shared byte in one barrier interval.
// Memory is host memory; EmulatedDevice adds poison and red zones around every allocation.
#pragma once

#include <algorithm>
#include <cmath>
#include <mutex>
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
#if defined(EMU_COUNTERS)
#include <dlfcn.h>
#include <unordered_map>
#endif

// ---- qualifiers -------------------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __noinline__ __attribute__((noinline))
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
// One arena for every static __shared__ variable of the library, so it can be poisoned and watched as a whole: the
// output section emu_shared, which EmulatorBuild's linker script gathers from two kinds of input section.
//   - .bss.emu_shared.N: the section this attribute names, where g++ honours it (a variable of a non-template
//     function or at namespace scope). One name per variable (__COUNTER__): a static of an inline function sits in a
//     COMDAT group, and g++ refuses one section name shared by grouped and ungrouped variables ("section type
//     conflict").
//   - .bss._ZZ*: g++ (12 at least) drops the attribute on a static local of a template, putting it in a COMDAT
//     section named after its mangled name (_ZZ: a function-local entity). The pattern takes every zero-initialised
//     function-local static of the library; device code has no statics but __shared__ ones, and this header keeps
//     its own state at namespace scope or thread_local.
#define EMU_STRINGIFY_(x) #x
#define EMU_STRINGIFY(x) EMU_STRINGIFY_(x)
#define __shared__ static __attribute__((section(".bss.emu_shared." EMU_STRINGIFY(__COUNTER__))))
#define __constant__ static
#define __CUDA_EMU__ 1

// ---- vector types -----------------------------------------------------------------------------------------------
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 { unsigned int x, y, z; };

namespace emu { [[noreturn]] inline void misaligned(const void* address, unsigned bytes); }
// A vector load or store is one instruction on the GPU and faults ("misaligned address") unless the address is a
// multiple of its size. Every such access goes through these types' copy constructor or assignment, which check it.
#define EMU_VEC_CHECKS(N)                                                                                           \
    N(const N& o) { emu_check(&o); std::memcpy(static_cast<void*>(this), &o, sizeof(N)); }                        \
    N& operator=(const N& o) { emu_check(this); emu_check(&o); std::memcpy(static_cast<void*>(this), &o, sizeof(N)); return *this; } \
    static void emu_check(const void* p) {                                                                          \
        if (reinterpret_cast<uintptr_t>(p) % sizeof(N) != 0) emu::misaligned(p, (unsigned)sizeof(N));              \
    }
#define EMU_VEC2(T, N) struct alignas(2 * sizeof(T)) N { T x, y;                                                     \
        N() = default; N(T x_, T y_) : x(x_), y(y_) {} EMU_VEC_CHECKS(N) };                                        \
    inline N make_##N(T x, T y) { return N(x, y); }
#define EMU_VEC4(T, N) struct alignas(4 * sizeof(T)) N { T x, y, z, w;                                               \
        N() = default; N(T x_, T y_, T z_, T w_) : x(x_), y(y_), z(z_), w(w_) {} EMU_VEC_CHECKS(N) };            \
    inline N make_##N(T x, T y, T z, T w) { return N(x, y, z, w); }
EMU_VEC2(float, float2) EMU_VEC4(float, float4)
EMU_VEC2(int, int2) EMU_VEC4(int, int4)
EMU_VEC2(unsigned int, uint2) EMU_VEC4(unsigned int, uint4)
EMU_VEC2(unsigned short, ushort2) EMU_VEC4(unsigned short, ushort4)
#undef EMU_VEC2
#undef EMU_VEC4
#undef EMU_VEC_CHECKS

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
    unsigned mask = 0;        // of the collective the arrived lanes wait in
    unsigned generation = 0;
    unsigned long long slots[2][32];  // exchange buffers for shuffles and votes, double-buffered
};

enum Status { kOk = 0, kError = 1 };

// Flags of emu_launch.
enum Flags { kCheckRaces = 1 };

// Who last wrote a shared-memory byte, and when (barrier generations), for the race check.
struct Writer {
    int fiber = -1;
    unsigned generation = 0;       // block barrier generation
    unsigned warp_generation = 0;  // the writer's warp's barrier generation
};

struct Launch {
    const char* kernel = "";
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    std::vector<int> order;   // the round-robin order of fiber indices, reshuffled every round when seeded
    size_t position = 0;      // of the current fiber in `order`
    unsigned long long rng = 0;  // 0: in order
    int live = 0;
    int arrived = 0;          // at __syncthreads
    unsigned generation = 0;
    int barrier_line = 0;     // source line of the __syncthreads the current generation waits at (0: none yet)
    const char* barrier_file = "";
    bool check_races = false;
    std::vector<unsigned char> shadow;  // shared memory as of the last race-check mark
    std::vector<Writer> writers;        // per byte of [static arena, dynamic shared]
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

[[noreturn]] inline void misaligned(const void* address, unsigned bytes) {
    char text[160];
    std::snprintf(text, sizeof text, ": misaligned %u-byte vector access at %p (the GPU faults: address must be a multiple of %u)",
                  bytes, address, bytes);
    if (tl_launch == nullptr || tl_launch->current == nullptr) { std::fprintf(stderr, "%s\n", text + 2); std::abort(); }
    fail(std::string("kernel ") + tl_launch->kernel + text);
}

// splitmix64: a small, good generator for shuffles (never returns the same sequence for different seeds).
inline unsigned long long next_random(unsigned long long& state) {
    unsigned long long z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

template <class T>
inline void shuffle(std::vector<T>& items, unsigned long long& state) {
    for (size_t i = items.size(); i > 1; i--) std::swap(items[i - 1], items[next_random(state) % i]);
}

// The static __shared__ arena: every variable declared __shared__ in this library (bounds set by EmulatorBuild's
// linker script; weak so that a library linked without it has an empty arena rather than failing to load).
extern "C" unsigned char __start_emu_shared[] __attribute__((weak, visibility("hidden")));
extern "C" unsigned char __stop_emu_shared[] __attribute__((weak, visibility("hidden")));
inline unsigned char* static_shared() { return __start_emu_shared; }
inline size_t static_shared_bytes() { return __start_emu_shared ? (size_t)(__stop_emu_shared - __start_emu_shared) : 0; }

inline thread_local std::vector<unsigned char> tl_dynamic_shared;

// Byte i of the watched shared memory: the static arena, then the dynamic buffer.
inline unsigned char* shared_byte(size_t i) {
    size_t n = static_shared_bytes();
    return i < n ? static_shared() + i : tl_dynamic_shared.data() + (i - n);
}

inline size_t shared_bytes() { return static_shared_bytes() + tl_dynamic_shared.size(); }

inline void snapshot_shared(Launch& L) {
    L.shadow.resize(shared_bytes());
    std::memcpy(L.shadow.data(), static_shared(), static_shared_bytes());
    std::memcpy(L.shadow.data() + static_shared_bytes(), tl_dynamic_shared.data(), tl_dynamic_shared.size());
}

// Race check: the bytes that changed since the last mark were written by the current fiber. Another fiber having
// written one of them since the last __syncthreads (or, in its own warp, since the last warp barrier) is a race: the
// GPU runs them concurrently and either value may win.
inline void mark_writes(Launch& L) {
    if (!L.check_races) return;
    Fiber& f = *L.current;
    const int me = (int)(&f - L.fibers.data());
    const size_t n = L.shadow.size();
    for (size_t i = 0; i < n; i++) {
        if (*shared_byte(i) == L.shadow[i]) continue;
        Writer& w = L.writers[i];
        const unsigned warp_gen = L.warps[f.warp].generation;
        if (w.fiber >= 0 && w.fiber != me && w.generation == L.generation &&
            (L.fibers[w.fiber].warp != f.warp || w.warp_generation == warp_gen)) {
            const Fiber& other = L.fibers[w.fiber];
            const bool dynamic = i >= static_shared_bytes();
            fail(std::string("kernel ") + L.kernel + ": shared-memory race: threads " + std::to_string(other.idx.x) + "," +
                 std::to_string(other.idx.y) + "," + std::to_string(other.idx.z) + " and " + std::to_string(f.idx.x) + "," +
                 std::to_string(f.idx.y) + "," + std::to_string(f.idx.z) + " both wrote " + (dynamic ? "dynamic" : "static") +
                 " shared byte " + std::to_string(dynamic ? i - static_shared_bytes() : i) +
                 " with no barrier between (block " + std::to_string(blockIdx.x) + "," + std::to_string(blockIdx.y) + "," +
                 std::to_string(blockIdx.z) + ")");
        }
        w = Writer{me, L.generation, warp_gen};
        L.shadow[i] = *shared_byte(i);
    }
}

// The next live fiber after the current one in round-robin order (L.order, reshuffled at the end of every round when
// seeded). Passing the end of the order closes a round: a round in which no fiber arrived at a barrier or returned is
// a deadlock.
inline Fiber& next_fiber(Launch& L) {
    const size_t n = L.order.size();
    for (;;) {
        if (++L.position == n) {
            L.position = 0;
            if (!L.progress)
                fail(std::string("kernel ") + L.kernel + ": deadlock in block (" + std::to_string(blockIdx.x) + "," +
                     std::to_string(blockIdx.y) + "," + std::to_string(blockIdx.z) + "): " + std::to_string(L.live) +
                     " threads wait at barriers that can never complete (__syncthreads or a warp collective in divergent code?)");
            L.progress = false;
            if (L.rng != 0) shuffle(L.order, L.rng);
        }
        Fiber& f = L.fibers[L.order[L.position]];
        if (!f.done) return f;
    }
}

// Hands the OS thread to the next live fiber directly (one context switch, no trip through the scheduler).
inline void yield() {
    Launch& L = *tl_launch;
    Fiber& from = *L.current;
    Fiber& to = next_fiber(L);
    if (&to != &from) {
        L.current = &to;
        threadIdx = to.idx;
        switch_fibers(from, to);
    }
    asm volatile("" ::: "memory");  // other fibers wrote shared memory meanwhile
}

inline void fiber_exit(Fiber& f) {
    Launch& L = *tl_launch;
    mark_writes(L);
    f.done = true;
    L.progress = true;
    L.live--;
    Warp& w = L.warps[f.warp];
    if (w.arrived > 0 && (w.mask >> f.lane & 1u)) {
        char m[16];
        std::snprintf(m, sizeof m, "0x%08x", w.mask);
        fail(std::string("kernel ") + L.kernel + ": lane " + std::to_string(f.lane) + " of warp " + std::to_string(f.warp) +
             " returned while its warp waits in a collective whose mask " + m + " names it");
    }
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
    Fiber& to = next_fiber(L);
    L.current = &to;
    threadIdx = to.idx;
    switch_fibers(self, to);  // never resumed: a done fiber is skipped
    for (;;) switch_to_scheduler(self);
}

#if !defined(__x86_64__)
inline void fiber_entry_uctx() { fiber_entry(); }
#endif

// __syncthreads: waits until every live thread of the block has arrived, all at the same source line (threads meeting
// at different __syncthreads is undefined on the GPU: it hangs or lets them pass each other).
inline void block_barrier(int line, const char* file) {
    Launch& L = *tl_launch;
    mark_writes(L);
    if (L.arrived == 0) { L.barrier_line = line; L.barrier_file = file; }
    else if (line != L.barrier_line || std::strcmp(file, L.barrier_file) != 0)
        fail(std::string("kernel ") + L.kernel + ": threads of one block wait at different __syncthreads (" + L.barrier_file +
             ":" + std::to_string(L.barrier_line) + " and " + file + ":" + std::to_string(line) + ")");
    unsigned gen = L.generation;
    L.progress = true;
    if (++L.arrived == L.live) { L.arrived = 0; L.generation++; return; }
    while (L.generation == gen) yield();
}

// Waits until every live lane of the calling warp has arrived. Only full-warp masks (of the live lanes) are
// supported: the kernels keep warps converged at collectives. A mask naming a lane that has returned, or that the
// block does not have (a partial last warp), fails the launch: on the GPU that collective is undefined (it hangs
// or reads garbage).
inline void warp_barrier(unsigned mask) {
    Launch& L = *tl_launch;
    Fiber& f = *L.current;
    mark_writes(L);
    if (!(mask >> f.lane & 1u)) fail(std::string("kernel ") + L.kernel + ": warp collective called by a lane outside its own mask");
    const size_t first = (size_t)f.warp * 32;
    for (int lane = 0; lane < 32; lane++) {
        if (!(mask >> lane & 1u)) continue;
        if (first + lane >= L.fibers.size() || L.fibers[first + lane].done) {
            char m[16];
            std::snprintf(m, sizeof m, "0x%08x", mask);
            fail(std::string("kernel ") + L.kernel + ": warp collective with mask " + m + " names lane " + std::to_string(lane) +
                 " of warp " + std::to_string(f.warp) + ", which " +
                 (first + lane >= L.fibers.size() ? "the block does not have" : "has already returned"));
        }
    }
    Warp& w = L.warps[f.warp];
    if (w.arrived == 0) w.mask = mask;
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
    L.order.resize(nthreads);
    for (unsigned t = 0; t < nthreads; t++) L.order[t] = (int)t;
    if (L.rng != 0) shuffle(L.order, L.rng);
    L.position = 0;
    if (L.check_races) {
        snapshot_shared(L);
        L.writers.assign(L.shadow.size(), Writer{});
    }
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
    Fiber& first = L.fibers[L.order[0]];
    L.current = &first;
    threadIdx = first.idx;
#if defined(__x86_64__)
    emu_switch(&L.scheduler_sp, first.sp);
#else
    swapcontext(&L.scheduler_ctx, &first.ctx);
#endif
    L.current = nullptr;
    return !L.failed;
}

#if defined(EMU_COUNTERS)
// ---- memory-access counters (the counters build only: EmulatedDeviceOptions.CountMemoryAccesses) ------------------
// That build adds GCC's outline address-sanitizer instrumentation (EmulatorBuild.CountersFlags), so every load and
// store the compiled code makes calls __asan_{load,store}{1,2,4,8,16,N}_noabort(address) first; this header defines
// them. A call made by a fiber whose address lies in the block's shared memory (the static arena or the dynamic
// buffer) or in a device allocation (ranges set by EmulatedDevice before each launch) is recorded under its call
// site (the return address: one site per load/store in the machine code) for the fiber's warp and lane. The k-th
// access of each lane at one site is one warp instruction, as lanes of a converged warp issue it together; lanes
// that took fewer trips are inactive in it. At the end of every block the warp instructions are scored:
//   shared: 32 banks of 4-byte words. 4-byte (and smaller) accesses are served for the whole warp at once; 8-byte
//     accesses in two phases of 16 lanes and 16-byte ones in four phases of 8 lanes (128 bytes per phase). A
//     phase's conflict degree is the most distinct words any one bank must deliver (the same word to many lanes is
//     one broadcast); 1 is conflict-free, 32 the worst. wavefronts = the degrees summed over phases, ideal = the
//     phases with an active lane.
//   global: the distinct 32-byte sectors the instruction touches, against the fewest that could carry its distinct
//     bytes (ceil(bytes / 32)).
// Everything else (fiber stacks, the emulator's own data, __constant__) is ignored.
namespace counters {

struct LaneAccess { uintptr_t address; unsigned size; };  // shared: offset in its region; global: the address

// One site's accesses in one warp, per lane in program order.
struct SiteLanes { std::vector<LaneAccess> lanes[32]; };

// A launch's totals per (site, space, direction); MemoryAccessSite.Native in C# has this layout.
struct SiteTotals {
    unsigned long long site;          // offset of the access in this library (for addr2line)
    int shared;                       // 1: shared memory, 0: global (device) memory
    int store;                        // 1: store, 0: load
    unsigned long long requests;      // warp instructions
    unsigned long long wavefronts;    // shared: conflict degrees summed over phases
    unsigned long long ideal;         // shared: phases with an active lane
    unsigned long long worst_ways;    // shared: the worst phase's conflict degree
    unsigned long long sectors;       // global: distinct 32-byte sectors
    unsigned long long min_sectors;   // global: ceil(distinct bytes / 32)
    unsigned long long worst_sectors; // global: the instruction with the lowest min/sectors ...
    unsigned long long worst_min;     // ... and its minimum
};

// One per library, not per OS thread: launches of a library are serialised (library_lock) and the C# side reads a
// launch's totals under a lock of its own, and the hooks run on every load and store, where a thread_local costs a
// __tls_get_addr call (a third of the time, measured).
struct State {
    bool busy = false;  // inside the counters: the containers below are instrumented too, their accesses are not counted
    Launch* launch = nullptr;                                        // the launch running now
    uintptr_t dynamic = 0;                                           // its dynamic shared memory
    size_t dynamic_bytes = 0;
    std::vector<std::pair<uintptr_t, uintptr_t>> global;             // device allocations [start, end), sorted
    const std::pair<uintptr_t, uintptr_t>* global_ranges = nullptr;  // global.data(), global.size()
    size_t global_count = 0;
    std::vector<std::unordered_map<uintptr_t, SiteLanes>> warps;     // this block's accesses, per warp
    std::unordered_map<uintptr_t, SiteTotals> totals;                // this launch's, per site key
};
inline State g_state;

inline uintptr_t library_base() {
    Dl_info info{};
    dladdr(reinterpret_cast<void*>(&library_base), &info);
    return reinterpret_cast<uintptr_t>(info.dli_fbase);
}

__attribute__((no_sanitize_address)) inline void record(uintptr_t address, unsigned size, int store, void* site) {
    State& s = g_state;
    if (s.busy) return;
    Launch* L = s.launch;
    if (L == nullptr || L->current == nullptr) return;  // outside a kernel (poisoning shared memory between blocks)
    s.busy = true;
    int shared = 1;
    const uintptr_t arena = reinterpret_cast<uintptr_t>(static_shared());
    if (address - arena < static_shared_bytes()) address -= arena;
    else if (address - s.dynamic < s.dynamic_bytes) address -= s.dynamic;
    else {
        shared = 0;
        // By hand, not std::upper_bound: g++ inlines no instrumented code into this uninstrumented function.
        const std::pair<uintptr_t, uintptr_t>* ranges = s.global_ranges;
        size_t low = 0, high = s.global_count;  // the last range starting at or below address is low - 1
        while (low < high) {
            const size_t mid = (low + high) / 2;
            if (ranges[mid].first <= address) low = mid + 1; else high = mid;
        }
        if (low == 0 || address >= ranges[low - 1].second) { s.busy = false; return; }
    }
    const Fiber& f = *L->current;
    if ((size_t)f.warp >= s.warps.size()) s.warps.resize(f.warp + 1);
    const uintptr_t key = (reinterpret_cast<uintptr_t>(site) << 2) | (uintptr_t)(shared << 1) | (uintptr_t)store;
    s.warps[f.warp][key].lanes[f.lane].push_back(LaneAccess{address, size});
    s.busy = false;
}

// Conflict degree of the lanes [first, first + count) of one shared-memory warp instruction.
inline unsigned phase_degree(const LaneAccess* const* lanes, int first, int count) {
    unsigned long long words[64];
    int n = 0;
    for (int lane = first; lane < first + count; lane++) {
        const LaneAccess* a = lanes[lane];
        if (a == nullptr) continue;
        for (uintptr_t w = a->address / 4; w <= (a->address + a->size - 1) / 4 && n < 64; w++) words[n++] = w;
    }
    std::sort(words, words + n);
    n = (int)(std::unique(words, words + n) - words);
    unsigned per_bank[32] = {};
    unsigned degree = 0;
    for (int i = 0; i < n; i++) degree = std::max(degree, ++per_bank[words[i] % 32]);
    return degree;
}

inline void score(SiteTotals& t, const LaneAccess* const* lanes) {
    t.requests++;
    unsigned widest = 0;
    for (int lane = 0; lane < 32; lane++) if (lanes[lane]) widest = std::max(widest, lanes[lane]->size);
    if (t.shared) {
        const unsigned words = (widest + 3) / 4;
        const int per_phase = words <= 1 ? 32 : words <= 2 ? 16 : words <= 4 ? 8 : std::max(1, 32 / (int)words);
        for (int first = 0; first < 32; first += per_phase) {
            unsigned degree = phase_degree(lanes, first, per_phase);
            if (degree == 0) continue;  // no active lane in this phase
            t.ideal++;
            t.wavefronts += degree;
            t.worst_ways = std::max<unsigned long long>(t.worst_ways, degree);
        }
        return;
    }
    std::pair<uintptr_t, uintptr_t> ranges[32];
    int n = 0;
    for (int lane = 0; lane < 32; lane++)
        if (lanes[lane]) ranges[n++] = {lanes[lane]->address, lanes[lane]->address + lanes[lane]->size};
    std::sort(ranges, ranges + n);
    unsigned long long bytes = 0, sectors = 0;
    uintptr_t covered = 0, last_sector = ~uintptr_t(0);
    for (int i = 0; i < n; i++) {
        auto [begin, end] = ranges[i];
        begin = std::max(begin, covered);
        if (begin < end) { bytes += end - begin; covered = end; }
        for (uintptr_t sector = ranges[i].first / 32; sector <= (ranges[i].second - 1) / 32; sector++)
            if (last_sector == ~uintptr_t(0) || sector > last_sector) { sectors++; last_sector = sector; }
    }
    const unsigned long long minimum = (bytes + 31) / 32;
    t.sectors += sectors;
    t.min_sectors += minimum;
    if (t.worst_sectors == 0 || minimum * t.worst_sectors < t.worst_min * sectors) { t.worst_sectors = sectors; t.worst_min = minimum; }
}

// Scores the block's warp instructions into the launch's totals (between blocks: no fiber runs).
inline void begin_launch(Launch& L) {
    g_state.launch = &L;
    g_state.dynamic = reinterpret_cast<uintptr_t>(tl_dynamic_shared.data());
    g_state.dynamic_bytes = tl_dynamic_shared.size();
}

inline void end_launch() { g_state.launch = nullptr; }

inline void end_block() {
    State& s = g_state;
    s.busy = true;
    const uintptr_t base = library_base();
    for (auto& warp : s.warps) {
        for (auto& [key, site] : warp) {
            SiteTotals& t = s.totals[key];
            if (t.requests == 0) {
                t.site = (key >> 2) - base;
                t.shared = (int)(key >> 1 & 1);
                t.store = (int)(key & 1);
            }
            size_t trips = 0;
            for (auto& lane : site.lanes) trips = std::max(trips, lane.size());
            for (size_t k = 0; k < trips; k++) {
                const LaneAccess* lanes[32];
                for (int lane = 0; lane < 32; lane++) lanes[lane] = k < site.lanes[lane].size() ? &site.lanes[lane][k] : nullptr;
                score(t, lanes);
            }
        }
        warp.clear();
    }
    s.busy = false;
}

}  // namespace counters
#define EMU_COUNTERS_BEGIN_LAUNCH(L) emu::counters::begin_launch(L)
#define EMU_COUNTERS_END_BLOCK() emu::counters::end_block()
#define EMU_COUNTERS_END_LAUNCH() emu::counters::end_launch()
#else
#define EMU_COUNTERS_BEGIN_LAUNCH(L) ((void)0)
#define EMU_COUNTERS_END_BLOCK() ((void)0)
#define EMU_COUNTERS_END_LAUNCH() ((void)0)
#endif

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

// FNV-1a of the kernel name: part of each launch's shuffle seed, so a launch's order depends on the seed, the kernel
// and the launch shape only, never on what ran before (a resumed run replays the same orders).
inline unsigned long long name_hash(const char* name) {
    unsigned long long h = 1469598103934665603ull;
    for (; *name; name++) h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h;
}

// One per kernel library (hidden visibility): its shared arena is not per thread. At namespace scope, not a static
// local, which would be gathered into the shared arena (see __shared__) if it were ever zero-initialised.
inline std::recursive_mutex g_library_lock;
inline std::recursive_mutex& library_lock() { return g_library_lock; }

inline int launch(const KernelEntry& k, const unsigned* grid, const unsigned* block, unsigned shared_bytes, void** params,
                  unsigned long long seed, int flags, char* error, int error_capacity) {
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

    std::lock_guard<std::recursive_mutex> serial(library_lock());
    Launch L;
    L.kernel = k.name;
    L.check_races = (flags & kCheckRaces) != 0;
    unsigned long long rng = 0;
    if (seed != 0) {
        rng = seed ^ name_hash(k.name);
        for (int i = 0; i < 3; i++) rng = rng * 31 + grid[i] * 1000003ull + block[i];
        if (rng == 0) rng = 1;
    }
    struct Ctx { const KernelEntry* k; void** params; } ctx{&k, params};
    L.body = [](void* p) { auto* c = static_cast<Ctx*>(p); c->k->invoke(c->params); };
    L.body_arg = &ctx;
    Launch* outer = tl_launch;
    tl_launch = &L;
    gridDim = dim3(grid[0], grid[1], grid[2]);
    blockDim = dim3(block[0], block[1], block[2]);
    tl_dynamic_shared.resize(std::max(16u, shared_bytes));
    EMU_COUNTERS_BEGIN_LAUNCH(L);
    // Blocks in a shuffled order: the GPU runs them in any order, concurrently.
    const unsigned long long blocks = (unsigned long long)grid[0] * grid[1] * grid[2];
    std::vector<unsigned long long> order;
    if (rng != 0 && blocks <= (1ull << 24)) {
        order.resize(blocks);
        for (unsigned long long b = 0; b < blocks; b++) order[b] = b;
        shuffle(order, rng);
    }
    bool ok = true;
    for (unsigned long long b = 0; b < blocks && ok; b++) {
        const unsigned long long linear = order.empty() ? b : order[b];
        blockIdx = uint3{(unsigned)(linear % grid[0]), (unsigned)(linear / grid[0] % grid[1]), (unsigned)(linear / grid[0] / grid[1])};
        std::memset(tl_dynamic_shared.data(), 0xFF, tl_dynamic_shared.size());
        if (static_shared_bytes() != 0) std::memset(static_shared(), 0xFF, static_shared_bytes());
        L.rng = rng == 0 ? 0 : next_random(rng) | 1;
        ok = run_block(L, nthreads);
        EMU_COUNTERS_END_BLOCK();
    }
    EMU_COUNTERS_END_LAUNCH();
    tl_launch = outer;
    return ok ? (int)kOk : report(L.error);
}

}  // namespace emu

#if defined(EMU_COUNTERS)
// The instrumentation's entry points (see "memory-access counters" above) and the counters' exports.
#define EMU_COUNTER_HOOKS(N)                                                                                           \
    extern "C" __attribute__((no_sanitize_address)) void __asan_load##N##_noabort(uintptr_t a) {                       \
        emu::counters::record(a, N, 0, __builtin_return_address(0));                                                   \
    }                                                                                                                  \
    extern "C" __attribute__((no_sanitize_address)) void __asan_store##N##_noabort(uintptr_t a) {                      \
        emu::counters::record(a, N, 1, __builtin_return_address(0));                                                   \
    }
EMU_COUNTER_HOOKS(1) EMU_COUNTER_HOOKS(2) EMU_COUNTER_HOOKS(4) EMU_COUNTER_HOOKS(8) EMU_COUNTER_HOOKS(16)
#undef EMU_COUNTER_HOOKS
extern "C" __attribute__((no_sanitize_address)) void __asan_loadN_noabort(uintptr_t a, size_t n) {
    emu::counters::record(a, (unsigned)n, 0, __builtin_return_address(0));
}
extern "C" __attribute__((no_sanitize_address)) void __asan_storeN_noabort(uintptr_t a, size_t n) {
    emu::counters::record(a, (unsigned)n, 1, __builtin_return_address(0));
}
// The rest of the interface the instrumented code calls; nothing to do without the sanitizer's runtime.
extern "C" void __asan_handle_no_return() {}
extern "C" void __asan_before_dynamic_init(const char*) {}
extern "C" void __asan_after_dynamic_init() {}

// Device allocations as sorted [start, end) pairs, set before each launch; then the totals of that launch.
extern "C" __attribute__((visibility("default"))) void emu_counters_set_global(const unsigned long long* ranges, int count) {
    auto& global = emu::counters::g_state.global;
    global.clear();
    for (int i = 0; i < count; i++) global.emplace_back((uintptr_t)ranges[2 * i], (uintptr_t)ranges[2 * i + 1]);
    std::sort(global.begin(), global.end());
    emu::counters::g_state.global_ranges = global.data();
    emu::counters::g_state.global_count = global.size();
}
extern "C" __attribute__((visibility("default"))) int emu_counters_count() { return (int)emu::counters::g_state.totals.size(); }
extern "C" __attribute__((visibility("default"))) int emu_counters_take(emu::counters::SiteTotals* out, int capacity) {
    auto& totals = emu::counters::g_state.totals;
    int n = 0;
    for (auto& [key, t] : totals) if (n < capacity) out[n++] = t;
    totals.clear();
    return n;
}
#endif

// ---- CUDA built-ins ---------------------------------------------------------------------------------------------
#define __syncthreads() emu::block_barrier(__LINE__, __FILE__)
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
// The lanes of the caller's warp that have not returned (no barrier: __activemask does not synchronise).
inline unsigned __activemask() {
    emu::Launch& L = *emu::tl_launch;
    const size_t first = (size_t)L.current->warp * 32;
    unsigned mask = 0;
    for (int lane = 0; lane < 32 && first + lane < L.fibers.size(); lane++)
        if (!L.fibers[first + lane].done) mask |= 1u << lane;
    return mask;
}

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
// IEEE single operations that the CUDA compiler must not contract into an fma. The default build targets x86-64
// without FMA, so plain operators round each step already; the FMA build (-mfma -ffp-contract=fast, as NVRTC
// contracts) would fuse an inlined a·b into the following add, so each result passes through an empty asm that the
// optimiser cannot see through: the rounded value is what the next operation reads, as on the GPU.
inline float emu_rounded(float r) {
#if defined(__x86_64__) || defined(__i386__)
    asm("" : "+x"(r));
#elif defined(__aarch64__)
    asm("" : "+w"(r));
#endif
    return r;
}
inline float __fadd_rn(float a, float b) { return emu_rounded(a + b); }
inline float __fsub_rn(float a, float b) { return emu_rounded(a - b); }
inline float __fmul_rn(float a, float b) { return emu_rounded(a * b); }
inline float __fdiv_rn(float a, float b) { return emu_rounded(a / b); }
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
                              void** params, unsigned long long seed, int flags, char* error, int error_capacity) { \
        return emu::launch(emu_kernels[i], grid, block, shared_bytes, params, seed, flags, error, error_capacity); \
    }
