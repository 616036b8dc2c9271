namespace Mistral.Runtime.Generation;

/// <summary>Log-probabilities from a row of logits: logprob(tok) = logits[tok] − logsumexp(logits), as the reference reports them.</summary>
public static class LogSoftmax
{
    /// <summary>log Σ exp(logits), with the max subtracted first; accumulated in fp64 and returned as fp32.</summary>
    public static float LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits) max = MathF.Max(max, l);
        if (float.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - (double)max);
        return (float)(max + Math.Log(sum));
    }

    public static float LogProb(ReadOnlySpan<float> logits, int token) => logits[token] - LogSumExp(logits);
}
