namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Softmax cross-entropy per token with a per-token weight (0 masks a target out):
/// CE = logsumexp(logits) − logits[target]; the training loss is Σ w·CE / Σ w (the caller divides).
/// Legend: T = tokens, V = vocab.
/// </summary>
public static class CrossEntropyRef
{
    /// <summary>losses[t] = CE of row t (unweighted); returns Σ weights[t]·losses[t], accumulated in fp64.</summary>
    public static double Forward(
        ReadOnlySpan<float> logits,    // [T, V]
        ReadOnlySpan<int> targets,     // [T]
        ReadOnlySpan<float> weights,   // [T]
        int vocab,
        Span<float> losses)            // [T]
    {
        double total = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            var row = logits.Slice(t * vocab, vocab);
            losses[t] = LogSumExp(row) - row[targets[t]];
            total += (double)weights[t] * losses[t];
        }
        return total;
    }

    /// <summary>dLogits[t, c] = (softmax(logits[t])[c] − [c == target]) · weights[t] · scale.</summary>
    public static void Backward(
        ReadOnlySpan<float> logits,    // [T, V]
        ReadOnlySpan<int> targets,     // [T]
        ReadOnlySpan<float> weights,   // [T]
        int vocab, float scale,
        Span<float> dLogits)           // [T, V] overwritten (may alias logits)
    {
        for (int t = 0; t < targets.Length; t++)
        {
            var row = logits.Slice(t * vocab, vocab);
            var dRow = dLogits.Slice(t * vocab, vocab);
            float lse = LogSumExp(row);
            float w = weights[t] * scale;
            for (int c = 0; c < vocab; c++)
                dRow[c] = MathF.Exp(row[c] - lse) * w;
            dRow[targets[t]] -= w;
        }
    }

    /// <summary>max + log Σ exp(x − max): stable for any magnitude of logits.</summary>
    public static float LogSumExp(ReadOnlySpan<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (var x in row) max = MathF.Max(max, x);
        float sum = 0f;
        foreach (var x in row) sum += MathF.Exp(x - max);
        return max + MathF.Log(sum);
    }
}
