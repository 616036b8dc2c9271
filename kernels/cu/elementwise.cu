// elementwise.cu: residual add, in-place scale, fill, and dtype casts. ElementwiseRef is the spec.
// Legend: N = element count. T is the storage type; math in fp32.
// Launch: each thread owns 16 bytes of consecutive elements (add, scale, fill: 4 fp32 or 8 bf16; cast: 4 elements),
// one vector access when aligned, in 1-D blocks.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// add holds two 16-byte vectors (8 bf16 each, widened to fp32) per thread.
// budget elementwise_add_*: regs<=32 smem<=0
// budget elementwise_*: regs<=24 smem<=0

// The elements [i0, i0 + V) ∩ [0, n) of this thread (V consecutive elements per thread, so a warp's accesses are
// contiguous).
#define ELEMENTWISE_PROLOGUE(V)                                                        \
    const long long i0 = (V) * ((long long)blockIdx.x * blockDim.x + threadIdx.x);   \
    if (i0 >= n) return;

// y = a + b; y may alias a or b. Each thread owns 16 bytes (4 fp32 or 8 bf16): one vector load of each input and one
// store when every pointer is 16-byte aligned; the last thread's partial vector (n not a multiple) goes element-wise.
template <class T>
__device__ __forceinline__ void add(const T* a, const T* b, long long n, T* y) {
    constexpr int V = 16 / sizeof(T);
    const long long i0 = V * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (i0 >= n) return;
    if (i0 + V <= n && is_aligned16(a) && is_aligned16(b) && is_aligned16(y)) {
        float va[V], vb[V];
        load16(a + i0, va);
        load16(b + i0, vb);
        for (int k = 0; k < V; k++) va[k] += vb[k];
        store16(y + i0, va);
    } else {
        for (long long i = i0; i < n && i < i0 + V; i++) y[i] = from_f32<T>(to_f32(a[i]) + to_f32(b[i]));
    }
}

// x ·= alpha. Each thread owns 16 bytes, one vector load and store when aligned (as add).
template <class T>
__device__ __forceinline__ void scale(T* x, float alpha, long long n) {
    constexpr int V = 16 / sizeof(T);
    ELEMENTWISE_PROLOGUE(V)
    if (i0 + V <= n && is_aligned16(x)) {
        float v[V];
        load16(x + i0, v);
        for (int k = 0; k < V; k++) v[k] *= alpha;
        store16(x + i0, v);
    } else {
        for (long long i = i0; i < n && i < i0 + V; i++) x[i] = from_f32<T>(to_f32(x[i]) * alpha);
    }
}

// x = value (rounded once to the storage type). Each thread owns 16 bytes, one vector store when aligned.
template <class T>
__device__ __forceinline__ void fill(T* x, float value, long long n) {
    constexpr int V = 16 / sizeof(T);
    ELEMENTWISE_PROLOGUE(V)
    if (i0 + V <= n && is_aligned16(x)) {
        float v[V];
        for (int k = 0; k < V; k++) v[k] = value;
        store16(x + i0, v);
    } else {
        const T v = from_f32<T>(value);
        for (long long i = i0; i < n && i < i0 + V; i++) x[i] = v;
    }
}

// dst = src converted (bf16 -> f32 exact; f32 -> bf16 round to nearest even). Each thread owns 4 elements (16 bytes
// of fp32, 8 of bf16): one vector access on each side when both are aligned.
template <class From, class To>
__device__ __forceinline__ void cast(const From* __restrict__ src, long long n, To* __restrict__ dst) {
    ELEMENTWISE_PROLOGUE(4)
    if (i0 + 4 <= n && is_aligned4(src) && is_aligned4(dst)) {
        float v[4];
        load4(src + i0, v);
        store4(dst + i0, v);
    } else {
        for (long long i = i0; i < n && i < i0 + 4; i++) dst[i] = from_f32<To>(to_f32(src[i]));
    }
}

extern "C" __global__ void elementwise_add_f32(const float* a, const float* b, long long n, float* y) { add<float>(a, b, n, y); }
extern "C" __global__ void elementwise_add_bf16(const bf16* a, const bf16* b, long long n, bf16* y) { add<bf16>(a, b, n, y); }
extern "C" __global__ void elementwise_scale_f32(float* x, float alpha, long long n) { scale<float>(x, alpha, n); }
extern "C" __global__ void elementwise_scale_bf16(bf16* x, float alpha, long long n) { scale<bf16>(x, alpha, n); }
extern "C" __global__ void elementwise_fill_f32(float* x, float value, long long n) { fill<float>(x, value, n); }
extern "C" __global__ void elementwise_fill_bf16(bf16* x, float value, long long n) { fill<bf16>(x, value, n); }
extern "C" __global__ void elementwise_cast_f32_to_bf16(const float* src, long long n, bf16* dst) { cast<float, bf16>(src, n, dst); }
extern "C" __global__ void elementwise_cast_bf16_to_f32(const bf16* src, long long n, float* dst) { cast<bf16, float>(src, n, dst); }
