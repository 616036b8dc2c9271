namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// LayerNorm per row: y = (x − mean) · rstd · weight + bias, rstd = 1 / sqrt(var + eps), var the biased variance
/// mean((x − mean)²) over the row, eps inside the root (torch.nn.LayerNorm, GPT-2's ln_1/ln_2/ln_f).
/// Legend: R = rows (tokens), D = dim.
/// </summary>
public static class LayerNormRef
{
    /// <summary>
    /// Two passes: the mean, then the mean of squared deviations (not E[x²] − mean², which cancels when |mean| ≫ std).
    /// The two row sums accumulate in fp64 and are rounded once: rows with a mean far from 0 (GPT-2's residual stream)
    /// make a sequential fp32 sum of D ≥ 1000 elements lose ~1e-5 of the mean, which n·weight + bias, cancelling to
    /// near 0, shows in full; the kernels' tree reductions stay within ~1e-7 of this. <paramref name="mean"/> and
    /// <paramref name="rstd"/> may be empty (inference).
    /// </summary>
    public static void Forward(
        ReadOnlySpan<float> x,       // [R, D]
        ReadOnlySpan<float> weight,  // [D]
        ReadOnlySpan<float> bias,    // [D]
        float eps,
        Span<float> y,               // [R, D] (may alias x)
        Span<float> mean,            // [R] or empty
        Span<float> rstd)            // [R] or empty
    {
        int dim = weight.Length;
        int rows = x.Length / dim;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * dim, dim);
            var yr = y.Slice(r * dim, dim);
            double sum = 0;
            for (int d = 0; d < dim; d++) sum += xr[d];
            float m = (float)(sum / dim);
            double sumSq = 0;
            for (int d = 0; d < dim; d++) sumSq += (xr[d] - m) * (xr[d] - m);
            float s = 1f / MathF.Sqrt((float)(sumSq / dim) + eps);
            for (int d = 0; d < dim; d++) yr[d] = (xr[d] - m) * s * weight[d] + bias[d];
            if (!mean.IsEmpty) mean[r] = m;
            if (!rstd.IsEmpty) rstd[r] = s;
        }
    }

    /// <summary>
    /// With n = (x − mean)·rstd (the normalized row) and g = dY ⊙ weight:
    /// dX = rstd · (g − mean(g) − n · mean(g ⊙ n));  dWeight += Σ_rows dY ⊙ n;  dBias += Σ_rows dY.
    /// </summary>
    public static void Backward(
        ReadOnlySpan<float> x,       // [R, D]
        ReadOnlySpan<float> weight,  // [D]
        ReadOnlySpan<float> mean,    // [R] saved by Forward
        ReadOnlySpan<float> rstd,    // [R] saved by Forward
        ReadOnlySpan<float> dY,      // [R, D]
        Span<float> dX,              // [R, D] overwritten
        Span<float> dWeight,         // [D] += (empty: weight is frozen)
        Span<float> dBias)           // [D] += (empty: bias is frozen)
    {
        int dim = weight.Length;
        int rows = x.Length / dim;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * dim, dim);
            var gr = dY.Slice(r * dim, dim);
            var dxr = dX.Slice(r * dim, dim);
            float m = mean[r], s = rstd[r];
            float sumG = 0f, sumGn = 0f;   // Σ_d g_d, Σ_d g_d · n_d
            for (int d = 0; d < dim; d++)
            {
                float g = gr[d] * weight[d];
                sumG += g;
                sumGn += g * ((xr[d] - m) * s);
            }
            float meanG = sumG / dim, meanGn = sumGn / dim;
            for (int d = 0; d < dim; d++)
            {
                float n = (xr[d] - m) * s;
                dxr[d] = s * (gr[d] * weight[d] - meanG - n * meanGn);
            }
            if (!dWeight.IsEmpty)
                for (int d = 0; d < dim; d++) dWeight[d] += gr[d] * ((xr[d] - m) * s);
            if (!dBias.IsEmpty)
                for (int d = 0; d < dim; d++) dBias[d] += gr[d];
        }
    }
}
