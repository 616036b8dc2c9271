// Probe for common/mma.cuh: one warp loads A [16 x 16] and B [16 x 8] (bf16, row-major) into fragments exactly as the
// documented layout says, runs one mma_m16n8k16_bf16, and stores C [16 x 8] fp32 row-major. A wrong layout in the
// documentation, the emulated twin or the PTX shows up as a wrong C.
#include "common/common.cuh"
#include "common/mma.cuh"

__device__ __forceinline__ unsigned int probe_pair(const bf16* p0, const bf16* p1) {
    return (unsigned int)p0->bits | ((unsigned int)p1->bits << 16);
}

extern "C" __global__ void probe_mma_bf16(const bf16* a, const bf16* b, float* c) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const unsigned int fa[4] = {
        probe_pair(&a[g * 16 + 2 * t], &a[g * 16 + 2 * t + 1]),
        probe_pair(&a[(g + 8) * 16 + 2 * t], &a[(g + 8) * 16 + 2 * t + 1]),
        probe_pair(&a[g * 16 + 2 * t + 8], &a[g * 16 + 2 * t + 9]),
        probe_pair(&a[(g + 8) * 16 + 2 * t + 8], &a[(g + 8) * 16 + 2 * t + 9]),
    };
    const unsigned int fb[2] = {
        probe_pair(&b[(2 * t) * 8 + g], &b[(2 * t + 1) * 8 + g]),
        probe_pair(&b[(2 * t + 8) * 8 + g], &b[(2 * t + 9) * 8 + g]),
    };
    float acc[4] = {1.f, 1.f, 1.f, 1.f};   // c += A·B: start from ones to check the accumulate
    mma_m16n8k16_bf16(acc, fa, fb);
    c[g * 8 + 2 * t] = acc[0];
    c[g * 8 + 2 * t + 1] = acc[1];
    c[(g + 8) * 8 + 2 * t] = acc[2];
    c[(g + 8) * 8 + 2 * t + 1] = acc[3];
}
