// Warp-tile algebra of the attention kernels: one kernel body for bf16 and fp32 storage.
// Fragments follow the PTX ISA layout of mma.m16n8k16 (lane = 4·g + t, g = lane / 4, t = lane % 4):
//   A [16 x 16] row-major: a[0] = (row g,   cols 2t, 2t+1)   a[1] = (row g+8, cols 2t, 2t+1)
//                          a[2] = (row g,   cols 2t+8, 2t+9) a[3] = (row g+8, cols 2t+8, 2t+9)
//   B [16 x 8]  by column: b[0] = (col g, rows 2t, 2t+1)     b[1] = (col g, rows 2t+8, 2t+9)
//   C [16 x 8]  fp32:      c[0..1] = (row g, cols 2t, 2t+1)  c[2..3] = (row g+8, cols 2t, 2t+1)
// bf16: a pair is two bf16 packed in 32 bits and the product runs on the tensor cores (common mma helper, whose
//       emulated twin is warp-collective). fp32: a pair is two floats and the product is plain fp32 FMAs, operands
//       gathered with shuffles; this is the exact path of --precision fp32 (TF32 would lose the fixture's 1e-4).
#pragma once

#include "common/common.cuh"
#include "common/ldmatrix.cuh"
#include "common/mma.cuh"

struct __align__(8) AttentionF32Pair
{
    float x, y;
};

template <typename T>
struct WarpTile;

template <>
struct WarpTile<bf16>
{
    typedef unsigned int Pair;

    static __device__ __forceinline__ Pair load(const bf16* p) { return *reinterpret_cast<const unsigned int*>(p); }
    static __device__ __forceinline__ Pair zero() { return 0u; }

    // Rounds to bf16 (nearest even) as the tensor cores' inputs must be; low half = first element.
    static __device__ __forceinline__ Pair pack(float first, float second) { return pack_bf16x2(first, second); }

    static __device__ __forceinline__ void store(bf16* p, float first, float second)
    {
        *reinterpret_cast<unsigned int*>(p) = pack(first, second);
    }

    // c += a · b
    static __device__ __forceinline__ void mma(float (&c)[4], const Pair (&a)[4], const Pair (&b)[2])
    {
        mma_m16n8k16_bf16(c, a, b);
    }
};

template <>
struct WarpTile<float>
{
    typedef AttentionF32Pair Pair;

    static __device__ __forceinline__ Pair load(const float* p) { return *reinterpret_cast<const AttentionF32Pair*>(p); }
    static __device__ __forceinline__ Pair zero() { Pair r; r.x = 0.f; r.y = 0.f; return r; }
    static __device__ __forceinline__ Pair pack(float first, float second) { Pair r; r.x = first; r.y = second; return r; }

    static __device__ __forceinline__ void store(float* p, float first, float second)
    {
        p[0] = first;
        p[1] = second;
    }

    // c += a · b in fp32. Step s gathers A's rows g, g+8 at columns 2s, 2s+1, 2s+8, 2s+9 (held by lane 4g + s) and
    // B's columns 2t, 2t+1 at the same rows (held by lanes 8t + s and 8t + 4 + s): 16 shuffles and 16 FMAs per step.
    static __device__ __forceinline__ void mma(float (&c)[4], const Pair (&a)[4], const Pair (&b)[2])
    {
        const unsigned int all = 0xffffffffu;
        const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
        for (int s = 0; s < 4; ++s)
        {
            const int a_lane = 4 * g + s, b_lane0 = 8 * t + s, b_lane1 = 8 * t + 4 + s;
            const float r0k0 = __shfl_sync(all, a[0].x, a_lane), r0k1 = __shfl_sync(all, a[0].y, a_lane);
            const float r1k0 = __shfl_sync(all, a[1].x, a_lane), r1k1 = __shfl_sync(all, a[1].y, a_lane);
            const float r0k8 = __shfl_sync(all, a[2].x, a_lane), r0k9 = __shfl_sync(all, a[2].y, a_lane);
            const float r1k8 = __shfl_sync(all, a[3].x, a_lane), r1k9 = __shfl_sync(all, a[3].y, a_lane);
            const float c0k0 = __shfl_sync(all, b[0].x, b_lane0), c0k1 = __shfl_sync(all, b[0].y, b_lane0);
            const float c0k8 = __shfl_sync(all, b[1].x, b_lane0), c0k9 = __shfl_sync(all, b[1].y, b_lane0);
            const float c1k0 = __shfl_sync(all, b[0].x, b_lane1), c1k1 = __shfl_sync(all, b[0].y, b_lane1);
            const float c1k8 = __shfl_sync(all, b[1].x, b_lane1), c1k9 = __shfl_sync(all, b[1].y, b_lane1);
            c[0] = fmaf(r0k9, c0k9, fmaf(r0k8, c0k8, fmaf(r0k1, c0k1, fmaf(r0k0, c0k0, c[0]))));
            c[1] = fmaf(r0k9, c1k9, fmaf(r0k8, c1k8, fmaf(r0k1, c1k1, fmaf(r0k0, c1k0, c[1]))));
            c[2] = fmaf(r1k9, c0k9, fmaf(r1k8, c0k8, fmaf(r1k1, c0k1, fmaf(r1k0, c0k0, c[2]))));
            c[3] = fmaf(r1k9, c1k9, fmaf(r1k8, c1k8, fmaf(r1k1, c1k1, fmaf(r1k0, c1k0, c[3]))));
        }
    }
};

// Fragment loads from tiles in shared memory: row-major, `stride` elements per row, rows 16-byte aligned. bf16: one
// ldmatrix per call (common/ldmatrix.cuh: lane 8·i + r names row r of 8x8 matrix i); fp32: each lane reads its pairs.
// A stride of an odd number of 16-byte units puts the 8 rows of an ldmatrix phase on 8 distinct 4-bank groups; fp32
// tiles are padded for their own pattern (see the kernel).
template <typename T>
struct TileLoad;

template <>
struct TileLoad<bf16>
{
    typedef unsigned int Pair;

    // A [16 x 16] = tile rows row0 .. row0+15, columns col .. col+15 (matrices: rows +0/+8 × columns +0/+8).
    static __device__ __forceinline__ void a(Pair (&a)[4], const bf16* tile, int stride, int row0, int col)
    {
        const int lane = threadIdx.x & 31;
        ldmatrix_x4(a, tile + (row0 + (lane & 7) + ((lane >> 3) & 1) * 8) * stride + col + (lane >> 4) * 8);
    }

    // Bᵀ stored by rows (K: a row is a key = a column of B): B columns n0 .. n0+7 into b0, n0+8 .. n0+15 into b1,
    // k = columns col .. col+15 of the tile.
    static __device__ __forceinline__ void b_rows(Pair (&b0)[2], Pair (&b1)[2], const bf16* tile, int stride, int n0, int col)
    {
        const int lane = threadIdx.x & 31;
        unsigned int r[4];
        ldmatrix_x4(r, tile + (n0 + (lane & 7) + (lane >> 4) * 8) * stride + col + ((lane >> 3) & 1) * 8);
        b0[0] = r[0]; b0[1] = r[1]; b1[0] = r[2]; b1[1] = r[3];
    }

    // B stored row-major (V: a row is a key = a row of B), read transposed: k = tile rows k0 .. k0+15, B columns
    // n0 .. n0+7 into b0 and n0+8 .. n0+15 into b1.
    static __device__ __forceinline__ void b_cols(Pair (&b0)[2], Pair (&b1)[2], const bf16* tile, int stride, int k0, int n0)
    {
        const int lane = threadIdx.x & 31;
        unsigned int r[4];
        ldmatrix_x4_trans(r, tile + (k0 + (lane & 7) + ((lane >> 3) & 1) * 8) * stride + n0 + (lane >> 4) * 8);
        b0[0] = r[0]; b0[1] = r[1]; b1[0] = r[2]; b1[1] = r[3];
    }

    // As b_cols for a tile only 8 columns wide: two k-steps, rows k0 .. k0+15 into b0 and k0+16 .. k0+31 into b1.
    static __device__ __forceinline__ void b_cols_k32(Pair (&b0)[2], Pair (&b1)[2], const bf16* tile, int stride, int k0, int n0)
    {
        const int lane = threadIdx.x & 31;
        unsigned int r[4];
        ldmatrix_x4_trans(r, tile + (k0 + lane) * stride + n0);
        b0[0] = r[0]; b0[1] = r[1]; b1[0] = r[2]; b1[1] = r[3];
    }
};

template <>
struct TileLoad<float>
{
    typedef AttentionF32Pair Pair;

    static __device__ __forceinline__ Pair at(const float* p) { return *reinterpret_cast<const AttentionF32Pair*>(p); }
    static __device__ __forceinline__ Pair down(const float* p, int stride) { Pair r; r.x = p[0]; r.y = p[stride]; return r; }

    static __device__ __forceinline__ void a(Pair (&a)[4], const float* tile, int stride, int row0, int col)
    {
        const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
        const float* p = tile + (row0 + g) * stride + col + 2 * t;
        a[0] = at(p);
        a[1] = at(p + 8 * stride);
        a[2] = at(p + 8);
        a[3] = at(p + 8 * stride + 8);
    }

    static __device__ __forceinline__ void b_rows(Pair (&b0)[2], Pair (&b1)[2], const float* tile, int stride, int n0, int col)
    {
        const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
        const float* p = tile + (n0 + g) * stride + col + 2 * t;
        b0[0] = at(p);
        b0[1] = at(p + 8);
        b1[0] = at(p + 8 * stride);
        b1[1] = at(p + 8 * stride + 8);
    }

    static __device__ __forceinline__ void b_cols(Pair (&b0)[2], Pair (&b1)[2], const float* tile, int stride, int k0, int n0)
    {
        const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
        const float* p = tile + (k0 + 2 * t) * stride + n0 + g;
        b0[0] = down(p, stride);
        b0[1] = down(p + 8 * stride, stride);
        b1[0] = down(p + 8, stride);
        b1[1] = down(p + 8 * stride + 8, stride);
    }

    static __device__ __forceinline__ void b_cols_k32(Pair (&b0)[2], Pair (&b1)[2], const float* tile, int stride, int k0, int n0)
    {
        const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
        const float* p = tile + (k0 + 2 * t) * stride + n0 + g;
        b0[0] = down(p, stride);
        b0[1] = down(p + 8 * stride, stride);
        b1[0] = down(p + 16 * stride, stride);
        b1[1] = down(p + 24 * stride, stride);
    }
};
