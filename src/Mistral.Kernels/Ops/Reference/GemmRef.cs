using System.Numerics.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Row-major GEMM: C = alpha · op(A) · op(B) + beta · C, op(X) = Xᵀ when its flag is set.
/// A is stored [M, K] (or [K, M] when transposed), B [K, N] (or [N, K]), C [M, N].
/// A linear layer y = x · Wᵀ with W [out, in] is Gemm(x, false, W, true): each output element is a row dot product.
/// </summary>
public static class GemmRef
{
    /// <summary>Columns of C per task: big enough to amortize the task, small enough that a one-row decode GEMM
    /// against a 32000-row output matrix still spreads over every core.</summary>
    private const int ColumnBlock = 512;

    /// <summary>
    /// One task per (row i, block of columns) of C. Row i of op(A) is gathered into a K-long buffer, then C[i, block]
    /// is either dot products with rows of B (B transposed: the linear-layer case) or K row-axpys of B's row slices
    /// (B not transposed). Accumulation is fp32. When beta is 0, C is not read (BLAS semantics), so NaN garbage in C
    /// does not leak into the result.
    /// </summary>
    public static void Gemm(
        ReadOnlyMemory<float> a, bool transposeA,  // [M, K] or [K, M]
        ReadOnlyMemory<float> b, bool transposeB,  // [K, N] or [N, K]
        int m, int n, int k,
        float alpha, float beta,
        Memory<float> c)                           // [M, N]
    {
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException($"gemm: buffers too small for M={m} N={n} K={k} (a {a.Length}, b {b.Length}, c {c.Length})");
        if (m == 0 || n == 0) return;

        int blocks = (n + ColumnBlock - 1) / ColumnBlock;
        // Small problems are not worth the task machinery.
        long work = (long)m * n * k;
        var options = new ParallelOptions { MaxDegreeOfParallelism = work < (1 << 16) ? 1 : Environment.ProcessorCount };
        Parallel.For(0, (long)m * blocks, options,
            () => (aRow: new float[k], cBlock: new float[Math.Min(n, ColumnBlock)]),
            (task, _, scratch) =>
            {
                int i = (int)(task / blocks), j0 = (int)(task % blocks) * ColumnBlock;
                int width = Math.Min(ColumnBlock, n - j0);
                var cBlock = scratch.cBlock.AsSpan(0, width);
                ComputeBlock(a.Span, transposeA, b.Span, transposeB, m, n, k, i, j0, scratch.aRow, cBlock);
                var ci = c.Span.Slice(i * n + j0, width);
                if (beta == 0f)
                    TensorPrimitives.Multiply(cBlock, alpha, ci);
                else
                    for (int j = 0; j < width; j++) ci[j] = alpha * cBlock[j] + beta * ci[j];
                return scratch;
            },
            _ => { });
    }

    /// <summary>cBlock = op(A)[i, :] · op(B)[:, j0 .. j0 + cBlock.Length), without alpha/beta.</summary>
    private static void ComputeBlock(
        ReadOnlySpan<float> a, bool transposeA,
        ReadOnlySpan<float> b, bool transposeB,
        int m, int n, int k, int i, int j0,
        Span<float> aRow,     // [K] scratch: row i of op(A)
        Span<float> cBlock)   // [width]
    {
        if (transposeA)
            for (int p = 0; p < k; p++) aRow[p] = a[p * m + i];  // column i of the stored [K, M]
        else
            a.Slice(i * k, k).CopyTo(aRow);

        if (transposeB)
        {
            // B stored [N, K]: C[i, j] = Σ_p A[i, p] · B[j, p]
            for (int j = 0; j < cBlock.Length; j++) cBlock[j] = TensorPrimitives.Dot(aRow, b.Slice((j0 + j) * k, k));
        }
        else
        {
            // B stored [K, N]: C[i, j0:] = Σ_p A[i, p] · B[p, j0:]
            cBlock.Clear();
            for (int p = 0; p < k; p++)
                TensorPrimitives.MultiplyAdd(b.Slice(p * n + j0, cBlock.Length), aRow[p], cBlock, cBlock);
        }
    }
}
