using System.Numerics.Tensors;
using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Testing;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class GemmRefTests
{
    public static TheoryData<string> GemmCasesData => new(GemmCases.Names);

    // fp32 dot products of K ≤ 4097 terms of N(0,1)·N(0,1) against an fp64 loop: the rounding error grows like
    // sqrt(K)·2^-24·|terms|, about 1e-4 of a result whose typical size is sqrt(K) ≈ 64; 2e-5 relative + 1e-4 absolute covers it.
    private const double Abs = 1e-4, Rel = 2e-5;

    [Fact]
    public void Gemm_TwoByTwo_HandChecked()
    {
        float[] a = [1, 2, 3, 4];   // [[1, 2], [3, 4]]
        float[] b = [5, 6, 7, 8];   // [[5, 6], [7, 8]]
        var c = new float[4];
        GemmRef.Gemm(a, false, b, false, 2, 2, 2, 1f, 0f, c);
        Assert.Equal([19f, 22f, 43f, 50f], c);
        GemmRef.Gemm(a, false, b, true, 2, 2, 2, 1f, 0f, c);   // a · bᵀ = [[1·5+2·6, 1·7+2·8], [3·5+4·6, 3·7+4·8]]
        Assert.Equal([17f, 23f, 39f, 53f], c);
        GemmRef.Gemm(a, true, b, false, 2, 2, 2, 1f, 0f, c);   // aᵀ · b = [[1·5+3·7, 1·6+3·8], [2·5+4·7, 2·6+4·8]]
        Assert.Equal([26f, 30f, 38f, 44f], c);
        GemmRef.Gemm(a, true, b, true, 2, 2, 2, 1f, 0f, c);    // aᵀ · bᵀ = [[1·5+3·6, 1·7+3·8], [2·5+4·6, 2·7+4·8]]
        Assert.Equal([23f, 31f, 34f, 46f], c);
    }

    [Theory]
    [MemberData(nameof(GemmCasesData))]
    public void Gemm_Cases_MatchFp64Loop(string name)
    {
        var c = GemmCases.Get(name);
        var (m, n, k) = (c.M, c.N, c.K);
        var data = c.Build();
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double aip = c.TransposeA ? data.A[p * m + i] : data.A[i * k + p];   // stored [K, M] when transposed
                    double bpj = c.TransposeB ? data.B[j * k + p] : data.B[p * n + j];   // stored [N, K] when transposed
                    sum += aip * bpj;
                }
                expected[i * n + j] = (float)(c.Alpha * sum + (c.Beta == 0 ? 0 : c.Beta * (double)data.C[i * n + j]));
            }
        var actual = (float[])data.C.Clone();
        GemmRef.Gemm(data.A, c.TransposeA, data.B, c.TransposeB, m, n, k, c.Alpha, c.Beta, actual);
        TensorAssert.Close(expected, actual, Abs * Math.Sqrt(k), Rel, name);
    }

    public static TheoryData<bool, bool, float> BlockingData => new()
    {
        { false, false, 0f }, { false, true, 0f }, { true, false, 0f }, { true, true, 0f },
        { false, false, 0.5f }, { false, true, 0.5f }, { true, false, 0.5f }, { true, true, 0.5f },
    };

    /// <summary>
    /// The blocking (rows and columns of C per task) must not change a bit: this GEMM is the oracle every parity figure
    /// is measured against. The reference here is the plain per-element form of the same operations: C[i, j] is one
    /// TensorPrimitives.Dot of row i of op(A) with row j of B when B is transposed, otherwise row i of C is K row-axpys
    /// (TensorPrimitives.MultiplyAdd) in order of p. Sizes 1, 7, 33, 513 cover one row, fewer rows than a block,
    /// a block and one, and more columns than one column block; beta 0 runs over NaN in C.
    /// </summary>
    [Theory]
    [MemberData(nameof(BlockingData))]
    public void Gemm_AwkwardShapes_BitIdenticalToPerElementDotAndAxpy(bool transposeA, bool transposeB, float beta)
    {
        int[] sizes = [1, 7, 33, 513];
        const float alpha = 0.75f;
        var rng = new Random(11);
        foreach (int m in sizes)
            foreach (int n in sizes)
                foreach (int k in sizes)
                {
                    if ((long)m * n * k > 513L * 513 * 33) continue;   // the largest cube adds nothing but minutes
                    var a = RandomFloats(rng, m * k);
                    var b = RandomFloats(rng, k * n);
                    var c = beta == 0f ? Enumerable.Repeat(float.NaN, m * n).ToArray() : RandomFloats(rng, m * n);
                    var expected = PerElement(a, transposeA, b, transposeB, m, n, k, alpha, beta, c);
                    GemmRef.Gemm(a, transposeA, b, transposeB, m, n, k, alpha, beta, c);
                    for (int e = 0; e < expected.Length; e++)
                        Assert.True(BitConverter.SingleToInt32Bits(expected[e]) == BitConverter.SingleToInt32Bits(c[e]),
                            $"M={m} N={n} K={k}: C[{e / n}, {e % n}] = {c[e]:R}, per-element {expected[e]:R}");
                }
    }

    private static float[] RandomFloats(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] PerElement(float[] a, bool transposeA, float[] b, bool transposeB, int m, int n, int k, float alpha, float beta, float[] c)
    {
        var result = new float[m * n];
        var aRow = new float[k];
        var acc = new float[n];
        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < k; p++) aRow[p] = transposeA ? a[p * m + i] : a[i * k + p];
            if (transposeB)
                for (int j = 0; j < n; j++) acc[j] = TensorPrimitives.Dot(aRow, b.AsSpan(j * k, k));
            else
            {
                Array.Clear(acc);
                for (int p = 0; p < k; p++) TensorPrimitives.MultiplyAdd(b.AsSpan(p * n, n), aRow[p], acc, acc);
            }
            for (int j = 0; j < n; j++)
                result[i * n + j] = beta == 0f ? alpha * acc[j] : alpha * acc[j] + beta * c[i * n + j];
        }
        return result;
    }

    [Fact]
    public void Gemm_BetaZero_DoesNotReadC()
    {
        float[] a = [1, 2];
        float[] b = [3, 4];
        float[] c = [float.NaN];
        GemmRef.Gemm(a, false, b, true, 1, 1, 2, 2f, 0f, c);   // 2 · (1·3 + 2·4)
        Assert.Equal(22f, c[0]);
    }

    [Fact]
    public void Gemm_BufferTooSmall_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => GemmRef.Gemm(new float[5], false, new float[6], false, 2, 2, 3, 1f, 0f, new float[4]));
        Assert.Contains("M=2 N=2 K=3", ex.Message);
    }
}
