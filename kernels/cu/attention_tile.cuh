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
    static __device__ __forceinline__ Pair pack(float first, float second)
    {
        return (unsigned int)f32_to_bf16(first).bits | ((unsigned int)f32_to_bf16(second).bits << 16);
    }

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
