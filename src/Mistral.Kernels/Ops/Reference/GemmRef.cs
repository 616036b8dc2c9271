using System.Numerics.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Row-major GEMM: C = alpha · op(A) · op(B) + beta · C, op(X) = Xᵀ when its flag is set.
/// A is stored [M, K] (or [K, M] when transposed), B [K, N] (or [N, K]), C [M, N].
/// A linear layer y = x · Wᵀ with W [out, in] is Gemm(x, false, W, true): each output element is a row dot product.
/// </summary>
public static class GemmRef
{
    /// <summary>
    /// One output row per task (Parallel.For over the M rows). Row i of op(A) is gathered into a K-long buffer,
    /// then C[i, :] is either N dot products with rows of B (B transposed: the linear-layer case) or K row-axpys
    /// of B's rows (B not transposed). Accumulation is fp32. When beta is 0, C is not read (BLAS semantics), so
    /// NaN garbage in C does not leak into the result.
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

        // Small problems (a decode step on a tiny model) are not worth a task each; large ones split by rows.
        long work = (long)m * n * k;
        var options = new ParallelOptions { MaxDegreeOfParallelism = work < (1 << 16) ? 1 : Environment.ProcessorCount };
        Parallel.For(0, m, options,
            () => (aRow: new float[k], cRow: new float[n]),
            (i, _, scratch) =>
            {
                ComputeRow(a.Span, transposeA, b.Span, transposeB, m, n, k, i, scratch.aRow, scratch.cRow);
                var ci = c.Span.Slice(i * n, n);
                if (beta == 0f)
                    TensorPrimitives.Multiply(scratch.cRow, alpha, ci);
                else
                    for (int j = 0; j < n; j++) ci[j] = alpha * scratch.cRow[j] + beta * ci[j];
                return scratch;
            },
            _ => { });
    }

    /// <summary>cRow = op(A)[i, :] · op(B), without alpha/beta.</summary>
    private static void ComputeRow(
        ReadOnlySpan<float> a, bool transposeA,
        ReadOnlySpan<float> b, bool transposeB,
        int m, int n, int k, int i,
        Span<float> aRow,   // [K] scratch: row i of op(A)
        Span<float> cRow)   // [N]
    {
        if (transposeA)
            for (int p = 0; p < k; p++) aRow[p] = a[p * m + i];  // column i of the stored [K, M]
        else
            a.Slice(i * k, k).CopyTo(aRow);

        if (transposeB)
        {
            // B stored [N, K]: C[i, j] = Σ_p A[i, p] · B[j, p]
            for (int j = 0; j < n; j++) cRow[j] = TensorPrimitives.Dot(aRow, b.Slice(j * k, k));
        }
        else
        {
            // B stored [K, N]: C[i, :] = Σ_p A[i, p] · B[p, :]
            cRow.Clear();
            for (int p = 0; p < k; p++)
                TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), aRow[p], cRow, cRow);
        }
    }
}
