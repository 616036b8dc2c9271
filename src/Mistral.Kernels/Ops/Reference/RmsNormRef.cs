namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// RMSNorm per row: y = x · rstd · weight, rstd = 1 / sqrt(mean(x²) + eps), eps inside the root, weight applied
/// afterwards (not 1 + weight). Legend: R = rows (tokens), D = dim.
/// </summary>
public static class RmsNormRef
{
    /// <summary>
    /// model.py RMSNorm: <c>x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)</c>, then <c>output * self.weight</c>.
    /// The mean is accumulated in fp32 in element order. <paramref name="rstd"/> may be empty (inference).
    /// </summary>
    public static void Forward(
        ReadOnlySpan<float> x,       // [R, D]
        ReadOnlySpan<float> weight,  // [D]
        float eps,
        Span<float> y,               // [R, D] (may alias x)
        Span<float> rstd)            // [R] or empty
    {
        int dim = weight.Length;
        int rows = x.Length / dim;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * dim, dim);
            var yr = y.Slice(r * dim, dim);
            float sumSq = 0f;
            for (int d = 0; d < dim; d++) sumSq += xr[d] * xr[d];
            float s = 1f / MathF.Sqrt(sumSq / dim + eps);
            for (int d = 0; d < dim; d++) yr[d] = xr[d] * s * weight[d];
            if (!rstd.IsEmpty) rstd[r] = s;
        }
    }

    /// <summary>
    /// With n = x·rstd (the normalized row) and g = dY ⊙ weight:
    /// dX = rstd · (g − n · mean(g ⊙ n));  dWeight += Σ_rows dY ⊙ n.
    /// </summary>
    public static void Backward(
        ReadOnlySpan<float> x,       // [R, D]
        ReadOnlySpan<float> weight,  // [D]
        ReadOnlySpan<float> rstd,    // [R] saved by Forward
        ReadOnlySpan<float> dY,      // [R, D]
        Span<float> dX,              // [R, D] overwritten
        Span<float> dWeight)         // [D] += (empty: weight is frozen)
    {
        int dim = weight.Length;
        int rows = x.Length / dim;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * dim, dim);
            var gr = dY.Slice(r * dim, dim);
            var dxr = dX.Slice(r * dim, dim);
            float s = rstd[r];
            float dot = 0f; // Σ_d (dY·w)_d · n_d
            for (int d = 0; d < dim; d++) dot += gr[d] * weight[d] * xr[d] * s;
            float meanDot = dot / dim;
            for (int d = 0; d < dim; d++)
            {
                float n = xr[d] * s;
                dxr[d] = s * (gr[d] * weight[d] - n * meanDot);
            }
            if (!dWeight.IsEmpty)
                for (int d = 0; d < dim; d++) dWeight[d] += gr[d] * xr[d] * s;
        }
    }
}
