using Mistral.Runtime.Models;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// Model FLOPs utilisation, as PaLM (appendix B) and nanoGPT's estimate_mfu count it:
///   training FLOPs per token = 6·N + 12·L·T·d
/// where N = the parameters that take part in a matrix product (every parameter except the lookup-only tables: GPT-2's
/// position table wpe, and the token embedding of an untied model, whose separate output head is counted instead; a
/// tied embedding is counted once, as the head's product), L = layers, T = the tokens each sequence attends over
/// (seq_len − 1 inputs per block), d = heads · head_dim. 6·N is 2 FLOPs per multiply-add forward, 4 backward;
/// 12·L·T·d is the attention scores and their weighted sum (QKᵀ and AV, forward and backward), causal masking not
/// subtracted. MFU = tokens/s · FLOPs per token ÷ the device's dense bf16 peak. Recomputed activations
/// (gradient checkpointing) are not counted: they are overhead, not model FLOPs.
/// </summary>
public static class TrainingFlops
{
    /// <summary>N of the formula: parameters that take part in a matrix product.</summary>
    public static long MatmulParameters(IModelConfig config)
    {
        long lookups = (config.PositionLimit is int positions ? (long)positions * config.Width : 0)
                       + (config.TieWordEmbeddings ? 0 : (long)config.VocabSize * config.Width);
        return config.ParameterCount - lookups;
    }

    /// <summary>Training FLOPs per token (forward and backward) at an attention span of <paramref name="contextTokens"/>.</summary>
    public static double PerToken(IModelConfig config, int contextTokens) =>
        6.0 * MatmulParameters(config) + 12.0 * config.LayerCount * contextTokens * config.Heads * config.HeadDim;

    /// <summary>Achieved FLOP/s ÷ peak FLOP/s; null when the peak is unknown (CPU, an unlisted GPU).</summary>
    public static double? Mfu(double tokensPerSecond, double flopsPerToken, double? peakFlops) =>
        peakFlops is > 0 ? tokensPerSecond * flopsPerToken / peakFlops.Value : null;
}
