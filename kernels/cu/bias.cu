// bias.cu: the bias of a linear layer, forward (row broadcast add) and backward (column sum). Its own file rather
// than elementwise.cu because the backward is a column reduction, not an element-wise map (BiasRef is the spec).
// Legend: R = rows (tokens), N = features. T is the storage type of x / y / bias / dY; math and dBias in fp32.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget bias_*: regs<=32 smem<=0

// y[r, j] = x[r, j] + bias[j]; y may alias x. Each thread owns 4 consecutive elements; when N is a multiple of 4
// they share a row and move as one vector.
template <class T>
__device__ __forceinline__ void bias_add(const T* x,                     // [R, N]
                                         const T* __restrict__ bias,     // [N]
                                         long long count, int features,
                                         T* y) {                         // [R, N]
    const long long i0 = 4 * ((long long)blockIdx.x * blockDim.x + threadIdx.x);
    if (i0 >= count) return;
    if (features % 4 == 0 && is_aligned4(x) && is_aligned4(bias) && is_aligned4(y)) {
        float v[4], b[4];
        load4(x + i0, v);
        load4(bias + i0 % features, b);
        for (int k = 0; k < 4; k++) v[k] += b[k];
        store4(y + i0, v);
    } else {
        for (long long i = i0; i < count && i < i0 + 4; i++) y[i] = from_f32<T>(to_f32(x[i]) + to_f32(bias[i % features]));
    }
}

// dBias[j] += Σ_r dY[r, j]: one thread per column walking the rows in order, so the sum is deterministic and needs
// no atomics; neighbouring threads read neighbouring columns (coalesced).
template <class T>
__device__ __forceinline__ void bias_backward(const T* __restrict__ dY,     // [R, N]
                                              int rows, int features,
                                              float* __restrict__ dBias) {  // [N] +=
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= features) return;
    float sum = 0.0f;
    for (int r = 0; r < rows; r++) sum += to_f32(dY[(long long)r * features + j]);
    dBias[j] += sum;
}

extern "C" __global__ void bias_add_f32(const float* x, const float* bias, long long count, int features, float* y) {
    bias_add<float>(x, bias, count, features, y);
}
extern "C" __global__ void bias_add_bf16(const bf16* x, const bf16* bias, long long count, int features, bf16* y) {
    bias_add<bf16>(x, bias, count, features, y);
}
extern "C" __global__ void bias_backward_f32(const float* dY, int rows, int features, float* dBias) {
    bias_backward<float>(dY, rows, features, dBias);
}
extern "C" __global__ void bias_backward_bf16(const bf16* dY, int rows, int features, float* dBias) {
    bias_backward<bf16>(dY, rows, features, dBias);
}
