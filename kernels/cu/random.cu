// Seeded uniform random fill, generated on the device: synthetic weights for `bench --shape 7b` (14.5 GB of bf16
// would take longer to draw and copy from the host than the benchmark itself runs).
// Counter-based: element i gets splitmix64(seed ^ i), so the values depend only on (seed, i), not on the launch shape.
#include "common/common.cuh"

// Resource budgets on sm_90 (ptxas via NVRTC 12.x; KernelBudgetTests): registers per thread (rounded up to the
// allocation granule of 8), static shared bytes, stack frame and spill bytes (0 unless stated).
// budget random_uniform_*: regs<=32 smem<=0

__device__ __forceinline__ unsigned long long random_splitmix64(unsigned long long x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// y[i] = low + (high - low) · u, u uniform in [0, 1) from the top 24 bits. n elements, grid-stride.
template <class T>
__device__ __forceinline__ void random_uniform(long long n, unsigned long long seed, float low, float high, T* y)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        const unsigned int bits = (unsigned int)(random_splitmix64(seed ^ (unsigned long long)i) >> 40);
        const float u = (float)bits * (1.0f / 16777216.0f);
        y[i] = from_f32<T>(low + (high - low) * u);
    }
}

// Grid: enough blocks of 256 to fill the device (the launcher caps it); any grid gives the same values.
extern "C" __global__ void random_uniform_f32(long long n, unsigned long long seed, float low, float high, float* y) { random_uniform<float>(n, seed, low, high, y); }
extern "C" __global__ void random_uniform_bf16(long long n, unsigned long long seed, float low, float high, bf16* y) { random_uniform<bf16>(n, seed, low, high, y); }
