// column_reduce.cuh: deterministic column sums over rows, out[d] += Σ_r term(r, d), for the parameter gradients of
// RMSNorm, LayerNorm and a linear bias (dWeight, dBias: fp32, +=), in two stages and without atomics.
//
// Stage 1 (column_partials): a grid of (column groups, row slices). Each thread owns V = 16 / sizeof(T) consecutive
// columns (one 16-byte load per operand per row when the rows allow it, neighbouring threads on neighbouring
// columns: coalesced) and walks its slice's rows in order, writing one fp32 partial per column and per sum to
// partials[slice][sum][column]. Stage 2 (column_sum): one thread per column adds the slices' partials in slice
// order, then adds that total into out. The slice length is the launcher's (a function of the row count only), so
// every run, device and schedule gives the same bits; many slices give the GPU enough blocks, where one thread per
// column walking every row (the kernels this replaced) ran 16 blocks for a 4096-wide norm.
//
// A Term is a struct with `using Storage = T`, `static constexpr int N` (sums per column), `bool aligned() const`
// (its row operands are 16-byte aligned at row 0; ColumnInputsXdY gives both for the norms' x and dY) and `void add(int r, long long at, bool vec, int count,
// float (&acc)[N][V]) const` (adds row r's terms for columns at .. at + count − 1 of the flattened [R, D] operands).
#ifndef MISTRAL_COLUMN_REDUCE_CUH
#define MISTRAL_COLUMN_REDUCE_CUH

#include "common/common.cuh"

template <class T>
struct ColumnVec {
    static constexpr int V = 16 / sizeof(T);
};

// The V values of one row at p: one 16-byte load when vec (all V columns exist), else element by element with the
// columns past count as 0.
template <class T, int V>
__device__ __forceinline__ void load_columns(const T* __restrict__ p, bool vec, int count, float (&v)[V]) {
    if (vec) {
        load16(p, v);
        return;
    }
#pragma unroll
    for (int k = 0; k < V; k++) v[k] = k < count ? to_f32(p[k]) : 0.0f;
}

// What the norms' terms read: x and dY [R, D] of storage T, 16 bytes of columns per thread per row.
template <class T>
struct ColumnInputsXdY {
    using Storage = T;
    static constexpr int V = ColumnVec<T>::V;
    const T* __restrict__ x;   // [R, D]
    const T* __restrict__ dY;  // [R, D]

    __device__ __forceinline__ bool aligned() const { return is_aligned16(x) && is_aligned16(dY); }
    __device__ __forceinline__ void load(long long at, bool vec, int count, float (&xv)[V], float (&gv)[V]) const {
        load_columns(dY + at, vec, count, gv);
        load_columns(x + at, vec, count, xv);
    }
};

// Stage 1. grid (ceil(dim / (V · blockDim.x)), ceil(rows / slice_rows)); partials [slices, N, dim] overwritten.
template <class Term>
__device__ __forceinline__ void column_partials(const Term& term, int rows, int dim, int slice_rows,
                                                float* __restrict__ partials) {
    constexpr int V = ColumnVec<typename Term::Storage>::V;
    constexpr int N = Term::N;
    const int d0 = (blockIdx.x * blockDim.x + threadIdx.x) * V;
    if (d0 >= dim) return;
    const int count = min(V, dim - d0);
    // Every row start is 16-byte aligned only when dim is a multiple of V; the choice is uniform over the grid.
    const bool vec = dim % V == 0 && term.aligned();
    const int r0 = blockIdx.y * slice_rows;
    const int r1 = min(rows, r0 + slice_rows);
    float acc[N][V];
#pragma unroll
    for (int n = 0; n < N; n++)
#pragma unroll
        for (int k = 0; k < V; k++) acc[n][k] = 0.0f;
    for (int r = r0; r < r1; r++) term.add(r, (long long)r * dim + d0, vec, count, acc);
    float* out = partials + (long long)blockIdx.y * N * dim + d0;
    // Whole vectors go out 16 bytes per lane (four scalar stores used a quarter of each sector); the tail one by one.
    const bool vec_out = count == V && dim % 4 == 0 && is_aligned16(partials);
#pragma unroll
    for (int n = 0; n < N; n++)
    {
        if (vec_out)
        {
#pragma unroll
            for (int k = 0; k < V; k += 4) store4(out + (long long)n * dim + k, &acc[n][k]);
        }
        else
        {
#pragma unroll
            for (int k = 0; k < V; k++)
                if (k < count) out[(long long)n * dim + k] = acc[n][k];
        }
    }
}

// Stage 2. out[d] += Σ_s partials[s · stride + d], s in order; one thread per column, grid ceil(dim / blockDim.x).
// out null: that sum is not wanted.
__device__ __forceinline__ void column_sum(const float* __restrict__ partials, int slices, long long stride, int dim,
                                           float* __restrict__ out) {
    const int d = blockIdx.x * blockDim.x + threadIdx.x;
    if (d >= dim || out == nullptr) return;
    float sum = 0.0f;
    for (int s = 0; s < slices; s++) sum += partials[s * stride + d];
    out[d] += sum;
}

#endif  // MISTRAL_COLUMN_REDUCE_CUH
