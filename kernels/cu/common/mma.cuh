// mma.cuh: the tensor-core product m16n8k16, bf16 inputs, fp32 accumulators, behind one function so that the emulator
// can supply a warp-collective twin with the same fragment layout (PTX ISA, "Matrix Fragments for mma.m16n8k16"):
//   lane = 4·g + t (g = groupID 0..7, t = thread in group 0..3)
//   A [16 x 16] row-major, 4 registers of 2 bf16 (low half = lower column):
//       a[0] = A[g][2t..2t+1]   a[1] = A[g+8][2t..2t+1]   a[2] = A[g][2t+8..2t+9]   a[3] = A[g+8][2t+8..2t+9]
//   B [16 x 8] column-major, 2 registers of 2 bf16 (low half = lower row):
//       b[0] = B[2t..2t+1][g]   b[1] = B[2t+8..2t+9][g]
//   C/D [16 x 8] fp32:  c[0..1] = C[g][2t..2t+1]   c[2..3] = C[g+8][2t..2t+1]
// c += A·B, called by all 32 lanes of a warp together (as mma.sync requires).
#ifndef MISTRAL_MMA_CUH
#define MISTRAL_MMA_CUH

#ifdef __CUDA_EMU__

// The emulated twin: lane (g, t) gathers A's rows g, g+8 and B's columns 2t, 2t+1 from the lanes holding them, four
// k-pairs at a time, and accumulates in fp32 (the products of bf16 values are exact in fp32; only the order of the
// additions may differ from the tensor cores', which the ISA leaves unspecified).
__device__ __forceinline__ float mma_bf16_low(unsigned int pair) { return __uint_as_float(pair << 16); }
__device__ __forceinline__ float mma_bf16_high(unsigned int pair) { return __uint_as_float(pair & 0xffff0000u); }

__device__ __forceinline__ void mma_m16n8k16_bf16(float (&c)[4], const unsigned int (&a)[4], const unsigned int (&b)[2]) {
    const unsigned int all = 0xffffffffu;
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    for (int s = 0; s < 4; ++s) {
        const int a_lane = 4 * g + s, b_lane0 = 8 * t + s, b_lane1 = 8 * t + 4 + s;   // holders of row g; of columns 2t, 2t+1
        const unsigned int r0 = __shfl_sync(all, a[0], a_lane), r1 = __shfl_sync(all, a[1], a_lane);
        const unsigned int r0h = __shfl_sync(all, a[2], a_lane), r1h = __shfl_sync(all, a[3], a_lane);
        const unsigned int c0 = __shfl_sync(all, b[0], b_lane0), c0h = __shfl_sync(all, b[1], b_lane0);
        const unsigned int c1 = __shfl_sync(all, b[0], b_lane1), c1h = __shfl_sync(all, b[1], b_lane1);
        c[0] += mma_bf16_low(r0) * mma_bf16_low(c0) + mma_bf16_high(r0) * mma_bf16_high(c0) + mma_bf16_low(r0h) * mma_bf16_low(c0h) + mma_bf16_high(r0h) * mma_bf16_high(c0h);
        c[1] += mma_bf16_low(r0) * mma_bf16_low(c1) + mma_bf16_high(r0) * mma_bf16_high(c1) + mma_bf16_low(r0h) * mma_bf16_low(c1h) + mma_bf16_high(r0h) * mma_bf16_high(c1h);
        c[2] += mma_bf16_low(r1) * mma_bf16_low(c0) + mma_bf16_high(r1) * mma_bf16_high(c0) + mma_bf16_low(r1h) * mma_bf16_low(c0h) + mma_bf16_high(r1h) * mma_bf16_high(c0h);
        c[3] += mma_bf16_low(r1) * mma_bf16_low(c1) + mma_bf16_high(r1) * mma_bf16_high(c1) + mma_bf16_low(r1h) * mma_bf16_low(c1h) + mma_bf16_high(r1h) * mma_bf16_high(c1h);
    }
}

#else

// sm_80+: one warp-wide tensor-core instruction.
__device__ __forceinline__ void mma_m16n8k16_bf16(float (&c)[4], const unsigned int (&a)[4], const unsigned int (&b)[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

#endif
#endif  // MISTRAL_MMA_CUH
