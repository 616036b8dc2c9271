// layernorm.cu: LayerNorm forward (saving mean and rstd) and backward (dX per row; dWeight and dBias as a column
// reduction). y = (x − mean) · rstd · weight + bias, rstd = 1 / sqrt(mean((x − mean)²) + eps), the biased variance
// (torch.nn.LayerNorm, GPT-2's ln_1/ln_2/ln_f; LayerNormRef is the spec).
// Legend: R = rows (tokens), D = dim. T = storage type of x / y / weight / bias / dY / dX; math, mean, rstd in fp32.
// Launch: one block per row, blockDim a multiple of 32 (block reductions); the parameter gradients in two stages
// (common/column_reduce.cuh).
#include "common/common.cuh"
#include "common/column_reduce.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget layernorm_backward_dparams_partials_*: regs<=48 smem<=0
// budget layernorm_*: regs<=32 smem<=128

// Two passes over the row (the mean, then the squared deviations), as the reference: E[x²] − mean² would cancel
// for rows whose mean is large next to their spread.
template <class T>
__device__ __forceinline__ void layernorm_forward(const T* __restrict__ x,       // [R, D]
                                                  const T* __restrict__ weight,  // [D]
                                                  const T* __restrict__ bias,    // [D]
                                                  float eps, int dim,
                                                  T* __restrict__ y,             // [R, D]
                                                  float* __restrict__ mean,      // [R] or null
                                                  float* __restrict__ rstd) {    // [R] or null
    const long long r = blockIdx.x;
    const T* xr = x + r * dim;
    T* yr = y + r * dim;
    float sum = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) sum += to_f32(xr[d]);
    const float m = block_reduce_sum(sum) / (float)dim;
    float squares = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
        const float v = to_f32(xr[d]) - m;
        squares += v * v;
    }
    // 1 / sqrtf rather than rsqrtf: both IEEE-rounded here, so the result matches the reference to the last bits.
    const float s = 1.0f / sqrtf(block_reduce_sum(squares) / (float)dim + eps);
    for (int d = threadIdx.x; d < dim; d += blockDim.x)
        yr[d] = from_f32<T>((to_f32(xr[d]) - m) * s * to_f32(weight[d]) + to_f32(bias[d]));
    if (threadIdx.x == 0) {
        if (mean != nullptr) mean[r] = m;
        if (rstd != nullptr) rstd[r] = s;
    }
}

// dX = rstd · (g − mean(g) − n · mean(g ⊙ n)), n = (x − mean) · rstd, g = dY ⊙ weight.
template <class T>
__device__ __forceinline__ void layernorm_backward(const T* __restrict__ x,         // [R, D]
                                                   const T* __restrict__ weight,    // [D]
                                                   const float* __restrict__ mean,  // [R]
                                                   const float* __restrict__ rstd,  // [R]
                                                   const T* __restrict__ dY,        // [R, D]
                                                   int dim,
                                                   T* __restrict__ dX) {            // [R, D] overwritten
    const long long r = blockIdx.x;
    const T* xr = x + r * dim;
    const T* gr = dY + r * dim;
    T* dxr = dX + r * dim;
    const float m = mean[r], s = rstd[r];
    float sum_g = 0.0f, sum_gn = 0.0f;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
        const float g = to_f32(gr[d]) * to_f32(weight[d]);
        sum_g += g;
        sum_gn += g * ((to_f32(xr[d]) - m) * s);
    }
    const float mean_g = block_reduce_sum(sum_g) / (float)dim;
    const float mean_gn = block_reduce_sum(sum_gn) / (float)dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
        const float n = (to_f32(xr[d]) - m) * s;
        dxr[d] = from_f32<T>(s * (to_f32(gr[d]) * to_f32(weight[d]) - mean_g - n * mean_gn));
    }
}

// dWeight[d] += Σ_r dY[r, d] · (x[r, d] − mean[r]) · rstd[r] (sum 0), dBias[d] += Σ_r dY[r, d] (sum 1): the
// two-stage column reduction of common/column_reduce.cuh (deterministic, no atomics); stage 2 skips a null output.
template <class T>
struct LayerNormParamsTerm : ColumnInputsXdY<T> {
    static constexpr int N = 2;
    static constexpr int V = ColumnVec<T>::V;
    const float* __restrict__ mean;  // [R]
    const float* __restrict__ rstd;  // [R]

    __device__ __forceinline__ void add(int r, long long at, bool vec, int count, float (&acc)[N][V]) const {
        float xv[V], gv[V];
        this->load(at, vec, count, xv, gv);
        const float m = mean[r], s = rstd[r];
#pragma unroll
        for (int k = 0; k < V; k++) {
            acc[0][k] += gv[k] * ((xv[k] - m) * s);
            acc[1][k] += gv[k];
        }
    }
};

extern "C" __global__ void layernorm_forward_f32(const float* x, const float* weight, const float* bias, float eps, int dim, float* y, float* mean, float* rstd) {
    layernorm_forward<float>(x, weight, bias, eps, dim, y, mean, rstd);
}
extern "C" __global__ void layernorm_forward_bf16(const bf16* x, const bf16* weight, const bf16* bias, float eps, int dim, bf16* y, float* mean, float* rstd) {
    layernorm_forward<bf16>(x, weight, bias, eps, dim, y, mean, rstd);
}
extern "C" __global__ void layernorm_backward_f32(const float* x, const float* weight, const float* mean, const float* rstd, const float* dY, int dim, float* dX) {
    layernorm_backward<float>(x, weight, mean, rstd, dY, dim, dX);
}
extern "C" __global__ void layernorm_backward_bf16(const bf16* x, const bf16* weight, const float* mean, const float* rstd, const bf16* dY, int dim, bf16* dX) {
    layernorm_backward<bf16>(x, weight, mean, rstd, dY, dim, dX);
}
extern "C" __global__ void layernorm_backward_dparams_partials_f32(const float* x, const float* mean, const float* rstd, const float* dY, int rows, int dim, int slice_rows, float* partials) {
    column_partials(LayerNormParamsTerm<float>{{x, dY}, mean, rstd}, rows, dim, slice_rows, partials);
}
extern "C" __global__ void layernorm_backward_dparams_partials_bf16(const bf16* x, const float* mean, const float* rstd, const bf16* dY, int rows, int dim, int slice_rows, float* partials) {
    column_partials(LayerNormParamsTerm<bf16>{{x, dY}, mean, rstd}, rows, dim, slice_rows, partials);
}
extern "C" __global__ void layernorm_backward_dparams_sum_f32(const float* partials, int slices, int dim, float* dWeight, float* dBias) {
    column_sum(partials, slices, 2LL * dim, dim, dWeight);
    column_sum(partials + dim, slices, 2LL * dim, dim, dBias);
}
