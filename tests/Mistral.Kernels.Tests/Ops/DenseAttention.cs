namespace Mistral.Kernels.Tests.Ops;

/// <summary>
/// An independent fp64 attention for the tests, written the other way round from the oracle: per sequence and head it
/// builds the full score matrix with an explicit additive mask (−∞ outside the band i − W &lt; j ≤ i), as xformers'
/// reference attention does, then softmaxes whole rows. No cache: it is the "one-shot" ground truth.
/// </summary>
internal static class DenseAttention
{
    /// <summary>y [T, H·Dh] for sequences packed back to back (positions from 0 + start), cache-free. Scores are
    /// q·k / sqrt(Dh), then multiplied by <paramref name="scoreScale"/> (HF GPT-2: divided by layer_idx + 1).</summary>
    public static double[] Forward(double[] q, double[] k, double[] v, int[] lengths, int[] starts, int nHeads, int nKvHeads, int headDim, int window,
        double[]? lse = null, double scoreScale = 1)
    {
        int T = lengths.Sum();
        int qw = nHeads * headDim, kw = nKvHeads * headDim;
        var y = new double[T * qw];
        double scale = 1 / Math.Sqrt(headDim);
        int offset = 0;
        for (int b = 0; b < lengths.Length; b++)
        {
            int L = lengths[b];
            for (int h = 0; h < nHeads; h++)
            {
                int kvh = h / (nHeads / nKvHeads);
                var scores = new double[L, L];
                for (int i = 0; i < L; i++)
                    for (int j = 0; j < L; j++)
                    {
                        long pi = starts[b] + i, pj = starts[b] + j;
                        bool allowed = pj <= pi && pi - pj < window;
                        double dot = 0;
                        for (int d = 0; d < headDim; d++)
                            dot += q[(offset + i) * qw + h * headDim + d] * k[(offset + j) * kw + kvh * headDim + d];
                        scores[i, j] = allowed ? dot * scale * scoreScale : double.NegativeInfinity;
                    }
                for (int i = 0; i < L; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < L; j++) max = Math.Max(max, scores[i, j]);
                    double sum = 0;
                    for (int j = 0; j < L; j++) sum += Math.Exp(scores[i, j] - max);
                    if (lse is not null) lse[h * T + offset + i] = max + Math.Log(sum);
                    for (int j = 0; j < L; j++)
                    {
                        double p = Math.Exp(scores[i, j] - max) / sum;
                        for (int d = 0; d < headDim; d++)
                            y[(offset + i) * qw + h * headDim + d] += p * v[(offset + j) * kw + kvh * headDim + d];
                    }
                }
            }
            offset += L;
        }
        return y;
    }
}
