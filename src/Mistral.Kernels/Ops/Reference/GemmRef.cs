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

    /// <summary>Rows of C per task: each slice of B a task touches is reused by this many rows while it is still in
    /// L1/L2, so B streams from memory M / RowBlock times instead of M times (the LM head's B is 154 MB).</summary>
    private const int RowBlock = 32;

    /// <summary>
    /// One task per (block of rows, block of columns) of C. Every element is computed by the same floating-point
    /// operations in the same order whatever the blocking (this GEMM is the oracle, its bits must not depend on
    /// it): with B transposed (the linear-layer case) C[i, j] is one TensorPrimitives.Dot of row i of op(A) with
    /// row j of B; otherwise row i of C is K row-axpys of B's row slices in order of p. Accumulation is fp32.
    /// When beta is 0, C is not read (BLAS semantics), so NaN garbage in C does not leak into the result.
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

        int columnBlocks = (n + ColumnBlock - 1) / ColumnBlock, rowBlocks = (m + RowBlock - 1) / RowBlock;
        int maxRows = Math.Min(m, RowBlock), maxWidth = Math.Min(n, ColumnBlock);
        // Rows of op(A) are gathered only when a dot product needs them contiguous and they are not.
        int gather = transposeA && transposeB ? maxRows * k : 0;
        // Small problems are not worth the task machinery.
        long work = (long)m * n * k;
        var options = new ParallelOptions { MaxDegreeOfParallelism = work < (1 << 16) ? 1 : Environment.ProcessorCount };
        Parallel.For(0, (long)rowBlocks * columnBlocks, options,
            () => (aRows: new float[gather], cBlock: new float[maxRows * maxWidth]),
            (task, _, scratch) =>
            {
                int i0 = (int)(task / columnBlocks) * RowBlock, j0 = (int)(task % columnBlocks) * ColumnBlock;
                int rows = Math.Min(RowBlock, m - i0), width = Math.Min(ColumnBlock, n - j0);
                var cBlock = scratch.cBlock.AsSpan(0, rows * width);
                if (transposeB)
                    DotBlock(a.Span, transposeA, b.Span, m, k, i0, rows, j0, width, scratch.aRows, cBlock);
                else
                    AxpyBlock(a.Span, transposeA, b.Span, m, n, k, i0, rows, j0, width, cBlock);
                for (int r = 0; r < rows; r++)
                {
                    var cRow = cBlock.Slice(r * width, width);
                    var ci = c.Span.Slice((i0 + r) * n + j0, width);
                    if (beta == 0f)
                        TensorPrimitives.Multiply(cRow, alpha, ci);
                    else
                        for (int j = 0; j < width; j++) ci[j] = alpha * cRow[j] + beta * ci[j];
                }
                return scratch;
            },
            _ => { });
    }

    /// <summary>B stored [N, K]: cBlock[r, j] = Dot(op(A)[i0 + r, :], B[j0 + j, :]). Columns outermost, so each
    /// K-long row of B is loaded once and stays in L1 while every row of the block uses it.</summary>
    private static void DotBlock(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b,
        int m, int k, int i0, int rows, int j0, int width,
        float[] aRows,        // [rows, K] scratch when A is transposed
        Span<float> cBlock)   // [rows, width]
    {
        if (transposeA)
            for (int p = 0; p < k; p++)
                for (int r = 0; r < rows; r++) aRows[r * k + p] = a[p * m + i0 + r];  // columns i0.. of the stored [K, M]
        ReadOnlySpan<float> aBlock = transposeA ? aRows : a.Slice(i0 * k, rows * k);
        for (int j = 0; j < width; j++)
        {
            var bj = b.Slice((j0 + j) * k, k);
            for (int r = 0; r < rows; r++) cBlock[r * width + j] = TensorPrimitives.Dot(aBlock.Slice(r * k, k), bj);
        }
    }

    /// <summary>B stored [K, N]: cBlock[r, :] = Σ_p op(A)[i0 + r, p] · B[p, j0 .. j0 + width), one row-axpy per p in
    /// order of p for each row, so the slice of B row p is loaded once and reused by every row of the block.</summary>
    private static void AxpyBlock(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b,
        int m, int n, int k, int i0, int rows, int j0, int width,
        Span<float> cBlock)   // [rows, width]
    {
        cBlock.Clear();
        for (int p = 0; p < k; p++)
        {
            var bp = b.Slice(p * n + j0, width);
            for (int r = 0; r < rows; r++)
            {
                float aip = transposeA ? a[p * m + i0 + r] : a[(i0 + r) * k + p];
                var cRow = cBlock.Slice(r * width, width);
                TensorPrimitives.MultiplyAdd(bp, aip, cRow, cRow);
            }
        }
    }
}
