// swiglu.cu: the gated FFN's middle, y = silu(gate) ⊙ up, silu(x) = x · sigmoid(x), and its backward.
// SwiGluRef is the spec (model.py FeedForward: w2(silu(w1 x) * w3 x)). expf, not __expf: the fast exponential's
// error would show at the 1e-5 tolerance. Legend: N = T · F elements. T is the storage type; math in fp32.
// Launch: each thread owns 16 bytes (4 fp32 or 8 bf16; one vector load per operand when aligned), in 1-D blocks.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// The backward holds three 16-byte vectors (24 fp32 values for bf16) per thread.
// budget swiglu_forward_*: regs<=32 smem<=0
// budget swiglu_backward_*: regs<=48 smem<=0

__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

template <class T>
__device__ __forceinline__ void swiglu_forward(const T* __restrict__ gate,  // [N]
                                               const T* __restrict__ up,    // [N]
                                               long long n,
                                               T* __restrict__ y) {         // [N]
    constexpr int V = 16 / sizeof(T);
    const long long i0 = V * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (i0 >= n) return;
    if (i0 + V <= n && is_aligned16(gate) && is_aligned16(up) && is_aligned16(y)) {
        float g[V], u[V];
        load16(gate + i0, g);
        load16(up + i0, u);
        for (int k = 0; k < V; k++) g[k] = g[k] * sigmoidf(g[k]) * u[k];
        store16(y + i0, g);
    } else {
        for (long long i = i0; i < n && i < i0 + V; i++) {
            const float g = to_f32(gate[i]);
            y[i] = from_f32<T>(g * sigmoidf(g) * to_f32(up[i]));
        }
    }
}

// dUp = dY · silu(gate); dGate = dY · up · σ(gate) · (1 + gate · (1 − σ(gate))). Outputs may alias inputs (each
// thread reads its 16 bytes of every input before it writes).
__device__ __forceinline__ void swiglu_grad(float g, float u, float dy, float& dg, float& du) {
    const float sg = sigmoidf(g);
    du = dy * g * sg;
    dg = dy * u * sg * (1.0f + g * (1.0f - sg));
}

template <class T>
__device__ __forceinline__ void swiglu_backward(const T* gate, const T* up, const T* dY,  // [N] each
                                                long long n,
                                                T* dGate, T* dUp) {                      // [N] each, overwritten
    constexpr int V = 16 / sizeof(T);
    const long long i0 = V * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (i0 >= n) return;
    if (i0 + V <= n && is_aligned16(gate) && is_aligned16(up) && is_aligned16(dY) && is_aligned16(dGate) && is_aligned16(dUp)) {
        float g[V], u[V], dy[V];
        load16(gate + i0, g);
        load16(up + i0, u);
        load16(dY + i0, dy);
        for (int k = 0; k < V; k++) swiglu_grad(g[k], u[k], dy[k], g[k], u[k]);
        store16(dUp + i0, u);
        store16(dGate + i0, g);
    } else {
        for (long long i = i0; i < n && i < i0 + V; i++) {
            float dg, du;
            swiglu_grad(to_f32(gate[i]), to_f32(up[i]), to_f32(dY[i]), dg, du);
            dUp[i] = from_f32<T>(du);
            dGate[i] = from_f32<T>(dg);
        }
    }
}

extern "C" __global__ void swiglu_forward_f32(const float* gate, const float* up, long long n, float* y) {
    swiglu_forward<float>(gate, up, n, y);
}
extern "C" __global__ void swiglu_forward_bf16(const bf16* gate, const bf16* up, long long n, bf16* y) {
    swiglu_forward<bf16>(gate, up, n, y);
}
extern "C" __global__ void swiglu_backward_f32(const float* gate, const float* up, const float* dY, long long n, float* dGate, float* dUp) {
    swiglu_backward<float>(gate, up, dY, n, dGate, dUp);
}
extern "C" __global__ void swiglu_backward_bf16(const bf16* gate, const bf16* up, const bf16* dY, long long n, bf16* dGate, bf16* dUp) {
    swiglu_backward<bf16>(gate, up, dY, n, dGate, dUp);
}
