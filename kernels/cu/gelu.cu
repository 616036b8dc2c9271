// gelu.cu: GELU forward and backward, in both forms (GeluRef is the spec):
//   tanh (HF gelu_new, GPT-2): y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//   erf  (HF gelu, torch):     y = 0.5·x·(1 + erf(x/√2))
// tanhf/erff/expf, not the fast intrinsics: their error would show at the 1e-5 tolerance.
// Legend: N = element count. T is the storage type; math in fp32.
// Launch: each thread owns 4 consecutive elements (one vector access per operand when aligned, so a warp's requests
// are contiguous), N/4 threads in 1-D blocks.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget gelu_*: regs<=32 smem<=0

#define GELU_TANH_SCALE 0.7978845608028654f  // √(2/π)
#define GELU_TANH_CUBIC 0.044715f
#define GELU_INV_SQRT2 0.7071067811865476f
#define GELU_INV_SQRT_2PI 0.3989422804014327f

template <bool Tanh>
__device__ __forceinline__ float gelu(float x) {
    if (Tanh) return 0.5f * x * (1.0f + tanhf(GELU_TANH_SCALE * (x + GELU_TANH_CUBIC * x * x * x)));
    return 0.5f * x * (1.0f + erff(x * GELU_INV_SQRT2));
}

// tanh: 0.5(1 + t) + 0.5x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh(u); erf: Φ(x) + x·φ(x).
template <bool Tanh>
__device__ __forceinline__ float gelu_derivative(float x) {
    if (Tanh) {
        const float t = tanhf(GELU_TANH_SCALE * (x + GELU_TANH_CUBIC * x * x * x));
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_TANH_SCALE * (1.0f + 3.0f * GELU_TANH_CUBIC * x * x);
    }
    return 0.5f * (1.0f + erff(x * GELU_INV_SQRT2)) + x * GELU_INV_SQRT_2PI * expf(-0.5f * x * x);
}

template <class T, bool Tanh>
__device__ __forceinline__ void gelu_forward(const T* x,    // [N]
                                             long long n,
                                             T* y) {        // [N], may alias x
    const long long i0 = 4 * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (i0 >= n) return;
    if (i0 + 4 <= n && is_aligned4(x) && is_aligned4(y)) {
        float v[4];
        load4(x + i0, v);
        for (int k = 0; k < 4; k++) v[k] = gelu<Tanh>(v[k]);
        store4(y + i0, v);
    } else {
        for (long long i = i0; i < n && i < i0 + 4; i++) y[i] = from_f32<T>(gelu<Tanh>(to_f32(x[i])));
    }
}

// dX = dY · gelu'(x); dX may alias dY.
template <class T, bool Tanh>
__device__ __forceinline__ void gelu_backward(const T* x, const T* dY,  // [N] each
                                              long long n,
                                              T* dX) {                  // [N] overwritten
    const long long i0 = 4 * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (i0 >= n) return;
    if (i0 + 4 <= n && is_aligned4(x) && is_aligned4(dY) && is_aligned4(dX)) {
        float vx[4], vd[4];
        load4(x + i0, vx);
        load4(dY + i0, vd);
        for (int k = 0; k < 4; k++) vd[k] *= gelu_derivative<Tanh>(vx[k]);
        store4(dX + i0, vd);
    } else {
        for (long long i = i0; i < n && i < i0 + 4; i++) dX[i] = from_f32<T>(to_f32(dY[i]) * gelu_derivative<Tanh>(to_f32(x[i])));
    }
}

extern "C" __global__ void gelu_forward_tanh_f32(const float* x, long long n, float* y) { gelu_forward<float, true>(x, n, y); }
extern "C" __global__ void gelu_forward_tanh_bf16(const bf16* x, long long n, bf16* y) { gelu_forward<bf16, true>(x, n, y); }
extern "C" __global__ void gelu_forward_erf_f32(const float* x, long long n, float* y) { gelu_forward<float, false>(x, n, y); }
extern "C" __global__ void gelu_forward_erf_bf16(const bf16* x, long long n, bf16* y) { gelu_forward<bf16, false>(x, n, y); }
extern "C" __global__ void gelu_backward_tanh_f32(const float* x, const float* dY, long long n, float* dX) {
    gelu_backward<float, true>(x, dY, n, dX);
}
extern "C" __global__ void gelu_backward_tanh_bf16(const bf16* x, const bf16* dY, long long n, bf16* dX) {
    gelu_backward<bf16, true>(x, dY, n, dX);
}
extern "C" __global__ void gelu_backward_erf_f32(const float* x, const float* dY, long long n, float* dX) {
    gelu_backward<float, false>(x, dY, n, dX);
}
extern "C" __global__ void gelu_backward_erf_bf16(const bf16* x, const bf16* dY, long long n, bf16* dX) {
    gelu_backward<bf16, false>(x, dY, n, dX);
}
