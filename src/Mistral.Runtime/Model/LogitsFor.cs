namespace Mistral.Runtime.Model;

/// <summary>Which rows of logits a forward pass computes.</summary>
public enum LogitsFor
{
    /// <summary>[T, V]: every packed token (parity, prompt logprobs, training).</summary>
    AllTokens,
    /// <summary>[B, V]: the last token of each sequence in the batch (generation; skips T − B rows of the vocab GEMM).</summary>
    LastTokens,
}
