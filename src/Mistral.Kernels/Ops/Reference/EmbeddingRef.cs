namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// Token embedding: a row gather forward, a row scatter-add backward.
/// Legend: T = tokens, V = vocab, D = dim.
/// </summary>
public static class EmbeddingRef
{
    /// <summary>y[t] = table[tokens[t]] (model.py: <c>h = self.tok_embeddings(input_ids)</c>).</summary>
    public static void Forward(
        ReadOnlySpan<int> tokens,   // [T]
        ReadOnlySpan<float> table,  // [V, D]
        int dim,
        Span<float> y)              // [T, D]
    {
        for (int t = 0; t < tokens.Length; t++)
            table.Slice(tokens[t] * dim, dim).CopyTo(y.Slice(t * dim, dim));
    }

    /// <summary>dTable[tokens[t]] += dY[t]; a token that repeats accumulates once per occurrence.</summary>
    public static void Backward(
        ReadOnlySpan<int> tokens,   // [T]
        ReadOnlySpan<float> dY,     // [T, D]
        int dim,
        Span<float> dTable)         // [V, D] +=
    {
        for (int t = 0; t < tokens.Length; t++)
        {
            var src = dY.Slice(t * dim, dim);
            var dst = dTable.Slice(tokens[t] * dim, dim);
            for (int d = 0; d < dim; d++) dst[d] += src[d];
        }
    }
}
