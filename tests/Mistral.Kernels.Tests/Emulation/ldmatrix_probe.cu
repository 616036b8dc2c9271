// Probe for common/ldmatrix.cuh: one warp copies a [32 x 8] bf16 matrix into shared memory with cp_async_16 (rows
// padded to 24 elements), then every lane names a row (lane l names row (5·l + 3) mod 32, so the row order is not the
// lane order) and the warp runs one ldmatrix_x4 or ldmatrix_x4_trans. Each lane stores its four registers; the test
// compares them with the PTX ISA's layout computed on the host.
#include "common/common.cuh"
#include "common/ldmatrix.cuh"

extern "C" __global__ void probe_ldmatrix(const bf16* m, int trans, unsigned int* out) {
    __align__(16) __shared__ bf16 tile[32 * 24];
    const int lane = threadIdx.x & 31;
    cp_async_16(&tile[lane * 24], m + lane * 8);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();
    const bf16* row = &tile[((5 * lane + 3) & 31) * 24];
    unsigned int d[4];
    if (trans) ldmatrix_x4_trans(d, row);
    else ldmatrix_x4(d, row);
    for (int i = 0; i < 4; ++i) out[lane * 4 + i] = d[i];
}
