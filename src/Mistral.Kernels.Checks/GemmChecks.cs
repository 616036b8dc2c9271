using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// IDevice.Gemm (cuBLAS on CUDA: the row-major → column-major mapping; the reference loop on the emulator) vs GemmRef
/// over <see cref="GemmCases"/>, plus one strided batch. Inputs and output share the storage dtype.
/// </summary>
public static class GemmChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
        {
            foreach (var c in GemmCases.All)
                yield return new KernelCheck("gemm", dtype, c.Name, s => Run(s, c, dtype, batch: 1));
            var batched = GemmCases.Get("17x3x127_tn");
            yield return new KernelCheck("gemm_strided_batched", dtype, $"3 x {batched.Name}", s => Run(s, batched, dtype, batch: 3));
        }
    }

    /// <summary>
    /// A dot product of K terms of N(0,1)·N(0,1) has magnitude ~sqrt(K), and any summation order (cuBLAS splits K,
    /// the reference blocks it) is within ~2^-24·K of another: 2^-20·K absolute leaves a 16x margin and still sees
    /// any wrong transpose or stride, which is off by O(1).
    /// </summary>
    private static double AbsoluteTolerance(int k) => k * Math.Pow(2, -20);

    private static KernelComparison Run(DeviceScope s, GemmCase c, DType dtype, int batch)
    {
        var (m, n, k) = (c.M, c.N, c.K);
        var a = new float[batch * m * k];
        var b = new float[batch * k * n];
        var cStart = new float[batch * m * n];
        for (int i = 0; i < batch; i++)
        {
            var data = c.Build(salt: i);
            data.A.CopyTo(a, i * m * k);
            data.B.CopyTo(b, i * k * n);
            data.C.CopyTo(cStart, i * m * n);
        }
        a = Storage.Rounded(a, dtype);
        b = Storage.Rounded(b, dtype);
        cStart = Storage.Rounded(cStart, dtype);
        var expected = (float[])cStart.Clone();
        for (int i = 0; i < batch; i++)
            GemmRef.Gemm(a.AsMemory(i * m * k, m * k), c.TransposeA, b.AsMemory(i * k * n, k * n), c.TransposeB, m, n, k, c.Alpha, c.Beta,
                expected.AsMemory(i * m * n, m * n));
        ElementwiseRef.RoundTo(dtype, expected);

        var da = s.Upload(a, new Shape(a.Length), dtype);
        var db = s.Upload(b, new Shape(b.Length), dtype);
        // With beta = 0 the output starts as NaN garbage (cuBLAS must not read it); else it holds C.
        var dc = c.Beta == 0f ? s.Allocate(new Shape(cStart.Length), dtype) : s.Upload(cStart, new Shape(cStart.Length), dtype);
        if (c.Beta == 0f) s.Device.Memset(new DeviceSpan<uint>(dc.Pointer, dc.ByteCount / 4), 0x7FC00000u);
        var gemm = GemmArgs.Dense(da.Pointer, c.TransposeA, db.Pointer, c.TransposeB, dc.Pointer, m, n, k, dtype, dtype, c.Alpha, c.Beta)
            with { BatchCount = batch, StrideA = (long)m * k, StrideB = (long)k * n, StrideC = (long)m * n };
        s.Device.Gemm(gemm);
        var (_, rel) = KernelTolerance.For(dtype);
        return new KernelComparison().Add("C", expected, s.Download(dc), AbsoluteTolerance(k), rel);
    }
}
