using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// IDevice.Gemm (cuBLAS on CUDA: the row-major → column-major mapping; the reference loop on the emulator) vs GemmRef
/// over <see cref="GemmCases"/>, plus one strided batch. Inputs and output share the storage dtype. Then the padded
/// variants: every transpose pair with each leading dimension longer than its stored row and batch strides longer than
/// a matrix, the gaps NaN — a leading dimension or stride the cuBLAS translation (<see cref="CublasGemmCall"/>, which
/// the emulator runs) gets wrong reads NaN or another element, and C's gaps must come back untouched.
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
            foreach (var name in PaddedCases)
            {
                var c = GemmCases.Get(name);
                yield return new KernelCheck("gemm_padded", dtype, c.Name, s => Run(s, c, dtype, batch: 1, pad: 3));
                yield return new KernelCheck("gemm_padded_strided_batched", dtype, $"2 x {c.Name}", s => Run(s, c, dtype, batch: 2, pad: 5));
            }
        }
    }

    /// <summary>One case per transpose pair (nn with beta 1, nt, tn, tt with alpha and beta), each small.</summary>
    private static readonly string[] PaddedCases = ["65x127x3_nn_accumulate", "3x17x65_nt", "17x3x127_tn", "5x33x17_tt_beta"];

    /// <summary>
    /// A dot product of K terms of N(0,1)·N(0,1) has magnitude ~sqrt(K), and any summation order (cuBLAS splits K,
    /// the reference blocks it) is within ~2^-24·K of another: 2^-20·K absolute leaves a 16x margin and still sees
    /// any wrong transpose or stride, which is off by O(1).
    /// </summary>
    private static double AbsoluteTolerance(int k) => k * Math.Pow(2, -20);

    private static KernelComparison Run(DeviceScope s, GemmCase c, DType dtype, int batch, int pad = 0)
    {
        if (pad > 0) return RunPadded(s, c, dtype, batch, pad);
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

    /// <summary>
    /// The case with every stored row <paramref name="pad"/> elements longer than its data and each batch matrix
    /// followed by a gap of 7·pad elements, gaps holding NaN; the reference runs on the dense matrices.
    /// </summary>
    private static KernelComparison RunPadded(DeviceScope s, GemmCase c, DType dtype, int batch, int pad)
    {
        var (m, n, k) = (c.M, c.N, c.K);
        var (aRows, aCols) = c.TransposeA ? (k, m) : (m, k);
        var (bRows, bCols) = c.TransposeB ? (n, k) : (k, n);
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad, gap = 7 * pad;
        long strideA = (long)aRows * lda + gap, strideB = (long)bRows * ldb + gap, strideC = (long)m * ldc + gap;
        var a = new float[batch * strideA];
        var b = new float[batch * strideB];
        var cPadded = new float[batch * strideC];
        Array.Fill(a, float.NaN);
        Array.Fill(b, float.NaN);
        Array.Fill(cPadded, float.NaN);
        var expected = new float[batch * m * n];
        for (int i = 0; i < batch; i++)
        {
            var data = c.Build(salt: i);
            var (da, db, dc) = (Storage.Rounded(data.A, dtype), Storage.Rounded(data.B, dtype), Storage.Rounded(data.C, dtype));
            Scatter(da, aRows, aCols, a, i * strideA, lda);
            Scatter(db, bRows, bCols, b, i * strideB, ldb);
            if (c.Beta != 0f) Scatter(dc, m, n, cPadded, i * strideC, ldc);
            var result = expected.AsMemory(i * m * n, m * n);
            dc.CopyTo(result);
            GemmRef.Gemm(da, c.TransposeA, db, c.TransposeB, m, n, k, c.Alpha, c.Beta, result);
        }
        ElementwiseRef.RoundTo(dtype, expected);

        var deviceA = s.Upload(a, new Shape(a.Length), dtype);
        var deviceB = s.Upload(b, new Shape(b.Length), dtype);
        var deviceC = s.Upload(cPadded, new Shape(cPadded.Length), dtype);
        s.Device.Gemm(new GemmArgs(deviceA.Pointer, deviceB.Pointer, deviceC.Pointer, dtype, dtype, c.TransposeA, c.TransposeB,
            m, n, k, lda, ldb, ldc, c.Alpha, c.Beta, batch, strideA, strideB, strideC));
        var output = s.Download(deviceC);

        var actual = new float[expected.Length];
        int gapsWritten = 0;
        for (int i = 0; i < batch; i++)
            for (long e = 0; e < strideC; e++)
            {
                long row = e / ldc, col = e % ldc;
                float value = output[i * strideC + e];
                if (row < m && col < n) actual[i * m * n + row * n + col] = value;
                else if (!float.IsNaN(value)) gapsWritten++;
            }
        var (_, rel) = KernelTolerance.For(dtype);
        return new KernelComparison().Add("C", expected, actual, AbsoluteTolerance(k), rel).AddExact("C gap elements written", [0], [gapsWritten]);
    }

    private static void Scatter(float[] dense, int rows, int cols, float[] padded, long offset, int ld)
    {
        for (int r = 0; r < rows; r++)
            Array.Copy(dense, (long)r * cols, padded, offset + (long)r * ld, cols);
    }
}
