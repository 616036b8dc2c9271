using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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

    /// <summary>Rows × vectors of C a register tile holds, and how many p it runs before storing them.</summary>
    private const int TileRows = 4, TileVectors = 2, PChunk = 256;

    /// <summary>
    /// B stored [K, N]: cBlock[r, :] = Σ_p op(A)[i0 + r, p] · B[p, j0 .. j0 + width), accumulated in order of p as
    /// c = b · a + c, unfused (TensorPrimitives.MultiplyAdd's per-element operation). 4-row × 2-vector tiles keep C in
    /// registers over 256 values of p while the matching 256 rows of B's slice stay in L2; the leftover rows and
    /// columns take one MultiplyAdd row-axpy per p. Each element goes through exactly one of the two paths, so its
    /// sequence of operations, and its bits, are those of the plain per-row axpy loop.
    /// </summary>
    private static void AxpyBlock(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b,
        int m, int n, int k, int i0, int rows, int j0, int width,
        Span<float> cBlock)   // [rows, width]
    {
        cBlock.Clear();
        int lanes = Vector<float>.Count, tileWidth = TileVectors * lanes;
        int tiledRows = Vector.IsHardwareAccelerated ? rows - rows % TileRows : 0;
        int tiledWidth = Vector.IsHardwareAccelerated ? width - width % tileWidth : 0;
        if (tiledRows > 0 && tiledWidth > 0)
            for (int p0 = 0; p0 < k; p0 += PChunk)
                for (int r = 0; r < tiledRows; r += TileRows)
                    for (int j = 0; j < tiledWidth; j += tileWidth)
                        AxpyTile(a, transposeA, b, m, n, k, i0 + r, p0, Math.Min(k, p0 + PChunk), j0 + j, cBlock.Slice(r * width + j), width);
        else
            tiledRows = 0;
        for (int p = 0; p < k; p++)
        {
            var bp = b.Slice(p * n + j0, width);
            for (int r = 0; r < rows; r++)
            {
                int from = r < tiledRows ? tiledWidth : 0;
                if (from == width) continue;
                float aip = transposeA ? a[p * m + i0 + r] : a[(i0 + r) * k + p];
                var cRow = cBlock.Slice(r * width + from, width - from);
                TensorPrimitives.MultiplyAdd(bp.Slice(from), aip, cRow, cRow);
            }
        }
    }

    /// <summary>C[i .. i + 4, j .. j + 2 vectors) += Σ_{p0 ≤ p &lt; p1} A[i + r, p] · B[p, j ..], each step b · a + c unfused.</summary>
    private static void AxpyTile(
        ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b,
        int m, int n, int k, int i, int p0, int p1, int j,
        Span<float> c, int ldc)   // c[0] is the tile's corner, rows ldc apart
    {
        int lanes = Vector<float>.Count;
        ref float c0 = ref MemoryMarshal.GetReference(c);
        ref readonly float bRef = ref MemoryMarshal.GetReference(b);
        _ = c[3 * ldc + 2 * lanes - 1];   // the tile lies inside c
        if (b.Length < (long)(p1 - 1) * n + j + 2 * lanes) throw new ArgumentOutOfRangeException(nameof(b));
        var c00 = Vector.LoadUnsafe(ref c0, 0);
        var c01 = Vector.LoadUnsafe(ref c0, (nuint)lanes);
        var c10 = Vector.LoadUnsafe(ref c0, (nuint)ldc);
        var c11 = Vector.LoadUnsafe(ref c0, (nuint)(ldc + lanes));
        var c20 = Vector.LoadUnsafe(ref c0, (nuint)(2 * ldc));
        var c21 = Vector.LoadUnsafe(ref c0, (nuint)(2 * ldc + lanes));
        var c30 = Vector.LoadUnsafe(ref c0, (nuint)(3 * ldc));
        var c31 = Vector.LoadUnsafe(ref c0, (nuint)(3 * ldc + lanes));
        for (int p = p0; p < p1; p++)
        {
            var b0 = Vector.LoadUnsafe(in bRef, (nuint)(p * n + j));
            var b1 = Vector.LoadUnsafe(in bRef, (nuint)(p * n + j + lanes));
            float a0, a1, a2, a3;
            if (transposeA)
            {
                var col = a.Slice(p * m + i, TileRows);
                (a0, a1, a2, a3) = (col[0], col[1], col[2], col[3]);
            }
            else
                (a0, a1, a2, a3) = (a[i * k + p], a[(i + 1) * k + p], a[(i + 2) * k + p], a[(i + 3) * k + p]);
            var v0 = new Vector<float>(a0);
            var v1 = new Vector<float>(a1);
            var v2 = new Vector<float>(a2);
            var v3 = new Vector<float>(a3);
            c00 = b0 * v0 + c00; c01 = b1 * v0 + c01;
            c10 = b0 * v1 + c10; c11 = b1 * v1 + c11;
            c20 = b0 * v2 + c20; c21 = b1 * v2 + c21;
            c30 = b0 * v3 + c30; c31 = b1 * v3 + c31;
        }
        c00.StoreUnsafe(ref c0, 0);
        c01.StoreUnsafe(ref c0, (nuint)lanes);
        c10.StoreUnsafe(ref c0, (nuint)ldc);
        c11.StoreUnsafe(ref c0, (nuint)(ldc + lanes));
        c20.StoreUnsafe(ref c0, (nuint)(2 * ldc));
        c21.StoreUnsafe(ref c0, (nuint)(2 * ldc + lanes));
        c30.StoreUnsafe(ref c0, (nuint)(3 * ldc));
        c31.StoreUnsafe(ref c0, (nuint)(3 * ldc + lanes));
    }
}
