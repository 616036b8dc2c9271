// bias.cu: the bias of a linear layer, forward (row broadcast add) and backward (column sum). Its own file rather
// than elementwise.cu because the backward is a column reduction, not an element-wise map (BiasRef is the spec).
// Legend: R = rows (tokens), N = features. T is the storage type of x / y / bias / dY; math and dBias in fp32.
#include "common/common.cuh"
#include "common/column_reduce.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget bias_backward_partials_*: regs<=40 smem<=0
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

// dBias[j] += Σ_r dY[r, j]: the two-stage column reduction of common/column_reduce.cuh (deterministic, no atomics).
template <class T>
struct BiasTerm {
    using Storage = T;
    static constexpr int N = 1;
    static constexpr int V = ColumnVec<T>::V;
    const T* __restrict__ dY;  // [R, N]

    __device__ __forceinline__ bool aligned() const { return is_aligned16(dY); }
    __device__ __forceinline__ void add(int, long long at, bool vec, int count, float (&acc)[N][V]) const {
        float gv[V];
        load_columns(dY + at, vec, count, gv);
#pragma unroll
        for (int k = 0; k < V; k++) acc[0][k] += gv[k];
    }
};

extern "C" __global__ void bias_add_f32(const float* x, const float* bias, long long count, int features, float* y) {
    bias_add<float>(x, bias, count, features, y);
}
extern "C" __global__ void bias_add_bf16(const bf16* x, const bf16* bias, long long count, int features, bf16* y) {
    bias_add<bf16>(x, bias, count, features, y);
}
extern "C" __global__ void bias_backward_partials_f32(const float* dY, int rows, int features, int slice_rows, float* partials) {
    column_partials(BiasTerm<float>{dY}, rows, features, slice_rows, partials);
}
extern "C" __global__ void bias_backward_partials_bf16(const bf16* dY, int rows, int features, int slice_rows, float* partials) {
    column_partials(BiasTerm<bf16>{dY}, rows, features, slice_rows, partials);
}
extern "C" __global__ void bias_backward_sum_f32(const float* partials, int slices, int features, float* dBias) {
    column_sum(partials, slices, features, features, dBias);
}
