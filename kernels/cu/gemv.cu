// GEMV for small batches (decode): y[M, N] = alpha · x[M, K] · Wᵀ + beta · y, W [N, K] as checkpoints store it,
// M ≤ GEMV_MAX_ROWS. GemmRef (the linear-layer case) and SwiGluRef are the spec. Forward only (training's GEMMs have thousands of rows and go to cuBLAS).
// Legend: M = rows of x (tokens, ≤ 8), N = outputs (rows of W), K = inputs, F = hidden width of the fused SwiGLU.
//
// At batch 1 a linear layer reads each weight once and does two flops with it: the time is the weight's bytes over
// the memory bandwidth, so the kernel is built to keep loads in flight. One warp owns one output n (one row of W, or
// row f of w1 and of w3 for SwiGLU) and walks K in 16-byte vectors (8 bf16 or 4 fp32, one LDG.128 each),
// GEMV_UNROLL vectors per lane issued before any is used; x (a few KB) is read from L1/L2 by every warp. Each lane
// adds its vectors in order of k, then the warp adds its lanes with the xor butterfly of warp_reduce_sum: a fixed
// order, so the result is deterministic and the same on every run. Rows of x and W go by vector when both base
// pointers are 16-byte aligned and K is a multiple of the vector (so every row is aligned); otherwise element by
// element (an awkward K: correct, slow).
//
// Fusions, so a decode layer needs fewer launches and no intermediate round trip through memory. The weights stay the
// separate tensors the checkpoint has (no re-layout at load, no copy, LoRA and training untouched): one launch reads
// several of them, as a concatenated weight would be read.
//   gemv_forward_*   up to three weights against one x (wq, wk, wv: one launch), each output to its own tensor;
//                    y = round(alpha · acc) + beta · y (beta = 0: y is not read) — beta = 1 is the residual add of
//                    wo / w2, bit for bit the unfused GEMM and add;
//   gemv_swiglu_*    y[m, f] = silu(x·w1[f]) · (x·w3[f]), y [M, F]: w1 and w3 in one launch, the gate and up values
//                    never stored, the SwiGLU in the epilogue (a warp owns the pair of rows f of w1 and of w3).
// Launch: blocks of GEMV_WARPS warps, one output per warp, grid ceil(ΣN / GEMV_WARPS) (ceil(F / GEMV_WARPS)).
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// No stack, no spills: the per-row accumulators and the GEMV_UNROLL loads in flight stay in registers (every index is a
// compile-time constant after unrolling).
// budget gemv_forward_f32: regs<=56 smem<=0
// budget gemv_forward_bf16: regs<=72 smem<=0
// budget gemv_swiglu_f32: regs<=72 smem<=0
// budget gemv_swiglu_bf16: regs<=80 smem<=0

#define GEMV_MAX_ROWS 8
#define GEMV_UNROLL 4
#define GEMV_WARPS 4

// 16 bytes of storage widened to fp32: 8 bf16 or 4 fp32.
template <class T> struct GemvVector;
template <> struct GemvVector<float> {
    static constexpr int N = 4;
    __device__ __forceinline__ static void widen(const uint4& v, float (&out)[4]) {
        out[0] = __uint_as_float(v.x); out[1] = __uint_as_float(v.y);
        out[2] = __uint_as_float(v.z); out[3] = __uint_as_float(v.w);
    }
};
template <> struct GemvVector<bf16> {
    static constexpr int N = 8;
    __device__ __forceinline__ static void widen(const uint4& v, float (&out)[8]) {
        const unsigned w[4] = {v.x, v.y, v.z, v.w};
        for (int i = 0; i < 4; i++) {
            out[2 * i] = bf16_bits_to_f32(w[i] & 0xffffu);
            out[2 * i + 1] = bf16_bits_to_f32(w[i] >> 16);
        }
    }
};

__device__ __forceinline__ uint4 gemv_load(const void* p) { return *reinterpret_cast<const uint4*>(p); }

// acc[r][m] += Σ_k x[m, k] · w_r[k] over this lane's share of k, for R rows of W (1, or 2 for SwiGLU). Lane L takes
// the vectors L, L + 32, L + 64, ...; GEMV_UNROLL of them per row are loaded before the first is used.
template <class T, int R>
__device__ __forceinline__ void gemv_dot(const T* __restrict__ x, const T* const (&w)[R], int M, int K, bool vector,
                                         float (&acc)[R][GEMV_MAX_ROWS]) {
    const int lane = threadIdx.x % WARP_SIZE;
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int m = 0; m < GEMV_MAX_ROWS; m++) acc[r][m] = 0.0f;
    if (vector) {
        constexpr int V = GemvVector<T>::N;
        const int vectors = K / V;
        for (int base = lane; base < vectors; base += WARP_SIZE * GEMV_UNROLL) {
            uint4 wv[R][GEMV_UNROLL];
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++) {
                const int i = base + u * WARP_SIZE;
#pragma unroll
                for (int r = 0; r < R; r++) wv[r][u] = i < vectors ? gemv_load(w[r] + (long long)i * V) : make_uint4(0u, 0u, 0u, 0u);
            }
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++) {
                const int i = base + u * WARP_SIZE;
                if (i < vectors) {
                    float wf[R][V];
#pragma unroll
                    for (int r = 0; r < R; r++) GemvVector<T>::widen(wv[r][u], wf[r]);
#pragma unroll
                    for (int m = 0; m < GEMV_MAX_ROWS; m++) {
                        if (m < M) {
                            float xf[V];
                            GemvVector<T>::widen(gemv_load(x + (long long)m * K + (long long)i * V), xf);
#pragma unroll
                            for (int r = 0; r < R; r++)
#pragma unroll
                                for (int e = 0; e < V; e++) acc[r][m] += xf[e] * wf[r][e];
                        }
                    }
                }
            }
        }
    } else {
        for (int k = lane; k < K; k += WARP_SIZE) {
#pragma unroll
            for (int m = 0; m < GEMV_MAX_ROWS; m++) {
                if (m < M) {
                    const float xv = to_f32(x[(long long)m * K + k]);
#pragma unroll
                    for (int r = 0; r < R; r++) acc[r][m] += xv * to_f32(w[r][k]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int m = 0; m < GEMV_MAX_ROWS; m++)
            if (m < M) acc[r][m] = warp_reduce_sum(acc[r][m]);
}

template <class T>
__device__ __forceinline__ bool gemv_vector_rows(const T* x, const T* w, int K) {
    return K % GemvVector<T>::N == 0 && is_aligned16(x) && is_aligned16(w);
}

// Up to three weights against the same x in one launch (q, k, v: one read of x's rows, one launch instead of three);
// output g of the launch is output g of segment 0, then of 1, then of 2. An unused segment has n = 0.
template <class T>
__device__ __forceinline__ void gemv_forward(const T* __restrict__ x,                                   // [M, K]
                                             const T* w0, const T* w1, const T* w2,                     // [Ns, K]
                                             int M, int n0, int n1, int n2, int K, float alpha, float beta,
                                             T* y0, T* y1, T* y2) {                                     // [M, Ns]
    int n = blockIdx.x * GEMV_WARPS + threadIdx.x / WARP_SIZE;
    int segment = 0;
    if (n >= n0) {
        n -= n0;
        segment = 1;
        if (n >= n1) {
            n -= n1;
            segment = 2;
        }
    }
    const T* w = segment == 0 ? w0 : segment == 1 ? w1 : w2;
    T* y = segment == 0 ? y0 : segment == 1 ? y1 : y2;
    const int N = segment == 0 ? n0 : segment == 1 ? n1 : n2;
    if (n >= N) return;   // whole warps leave together: the shuffles below see only live warps
    const T* const rows[1] = {w + (long long)n * K};
    float acc[1][GEMV_MAX_ROWS];
    gemv_dot<T, 1>(x, rows, M, K, gemv_vector_rows(x, w, K), acc);
    if (threadIdx.x % WARP_SIZE != 0) return;
#pragma unroll
    for (int m = 0; m < GEMV_MAX_ROWS; m++) {
        if (m >= M) break;
        // The product is rounded to storage before beta · y is added, as a GEMM into a tensor of its own and an add
        // would store it: the residual add fused here changes no bits (bf16 parity is measured against that order).
        float v = to_f32(from_f32<T>(alpha * acc[0][m]));
        if (beta != 0.0f) v += beta * to_f32(y[(long long)m * N + n]);
        y[(long long)m * N + n] = from_f32<T>(v);
    }
}

template <class T>
__device__ __forceinline__ void gemv_swiglu(const T* __restrict__ x,    // [M, K]
                                            const T* __restrict__ w1,   // [F, K] gate
                                            const T* __restrict__ w3,   // [F, K] up
                                            int M, int F, int K,
                                            T* __restrict__ y) {        // [M, F]
    const int f = blockIdx.x * GEMV_WARPS + threadIdx.x / WARP_SIZE;
    if (f >= F) return;
    const T* const rows[2] = {w1 + (long long)f * K, w3 + (long long)f * K};
    float acc[2][GEMV_MAX_ROWS];
    gemv_dot<T, 2>(x, rows, M, K, gemv_vector_rows(x, w1, K) && gemv_vector_rows(x, w3, K), acc);
    if (threadIdx.x % WARP_SIZE != 0) return;
    for (int m = 0; m < GEMV_MAX_ROWS; m++) {
        if (m >= M) break;
        // The gate and up values are rounded to the storage type first, as the unfused GEMMs store them, so the
        // SwiGLU sees the very inputs swiglu_forward would (expf, not __expf: see swiglu.cu).
        const float g = to_f32(from_f32<T>(acc[0][m]));
        const float u = to_f32(from_f32<T>(acc[1][m]));
        y[(long long)m * F + f] = from_f32<T>(g * (1.0f / (1.0f + expf(-g))) * u);
    }
}

extern "C" __global__ void __launch_bounds__(128) gemv_forward_f32(const float* x, const float* w0, const float* w1, const float* w2, int M, int n0, int n1, int n2, int K, float alpha, float beta, float* y0, float* y1, float* y2) {
    gemv_forward<float>(x, w0, w1, w2, M, n0, n1, n2, K, alpha, beta, y0, y1, y2);
}
extern "C" __global__ void __launch_bounds__(128) gemv_forward_bf16(const bf16* x, const bf16* w0, const bf16* w1, const bf16* w2, int M, int n0, int n1, int n2, int K, float alpha, float beta, bf16* y0, bf16* y1, bf16* y2) {
    gemv_forward<bf16>(x, w0, w1, w2, M, n0, n1, n2, K, alpha, beta, y0, y1, y2);
}
extern "C" __global__ void __launch_bounds__(128) gemv_swiglu_f32(const float* x, const float* w1, const float* w3, int M, int F, int K, float* y) {
    gemv_swiglu<float>(x, w1, w3, M, F, K, y);
}
extern "C" __global__ void __launch_bounds__(128) gemv_swiglu_bf16(const bf16* x, const bf16* w1, const bf16* w3, int M, int F, int K, bf16* y) {
    gemv_swiglu<bf16>(x, w1, w3, M, F, K, y);
}
