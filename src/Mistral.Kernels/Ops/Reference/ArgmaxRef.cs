namespace Mistral.Kernels.Ops.Reference;

/// <summary>Greedy choice per row: the index of the largest logit, the lowest index on ties (torch.argmax's rule).</summary>
public static class ArgmaxRef
{
    public static void Argmax(
        ReadOnlySpan<float> logits,   // [R, V]
        int vocab,
        Span<int> ids)                // [R]
    {
        for (int r = 0; r < ids.Length; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            int best = 0;
            for (int c = 1; c < vocab; c++)
                if (row[c] > row[best]) best = c;   // strictly greater keeps the first of equal values
            ids[r] = best;
        }
    }
}
