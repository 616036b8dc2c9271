using System.Globalization;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// The canonical GPT-2 tensor names: Hugging Face GPT2LMHeadModel's names without the "transformer." prefix (the hub's
/// gpt2 repository stores exactly these), in the engine's layout. The four Conv1D projections (attn.c_attn,
/// attn.c_proj, mlp.c_fc, mlp.c_proj) are stored [in, out] in every checkpoint and appear here as [out, in], like any
/// Linear weight of the engine: <see cref="Gpt2Checkpoint"/> transposes them once, when they are read.
/// lm_head.weight [V, C] exists only when the head is not tied; a tied head is wte.weight (<see cref="Output"/>).
/// </summary>
public static class Gpt2TensorNames
{
    /// <summary>What GPT2LMHeadModel's state dict puts before every name but lm_head.weight.</summary>
    public const string TransformerPrefix = "transformer.";

    public const string Wte = "wte.weight";
    public const string Wpe = "wpe.weight";
    public const string LnFWeight = "ln_f.weight";
    public const string LnFBias = "ln_f.bias";
    public const string LmHead = "lm_head.weight";

    public static string Ln1Weight(int layer) => Layer(layer, "ln_1.weight");
    public static string Ln1Bias(int layer) => Layer(layer, "ln_1.bias");
    public static string CAttnWeight(int layer) => Layer(layer, "attn.c_attn.weight");
    public static string CAttnBias(int layer) => Layer(layer, "attn.c_attn.bias");
    public static string AttnCProjWeight(int layer) => Layer(layer, "attn.c_proj.weight");
    public static string AttnCProjBias(int layer) => Layer(layer, "attn.c_proj.bias");
    public static string Ln2Weight(int layer) => Layer(layer, "ln_2.weight");
    public static string Ln2Bias(int layer) => Layer(layer, "ln_2.bias");
    public static string CFcWeight(int layer) => Layer(layer, "mlp.c_fc.weight");
    public static string CFcBias(int layer) => Layer(layer, "mlp.c_fc.bias");
    public static string MlpCProjWeight(int layer) => Layer(layer, "mlp.c_proj.weight");
    public static string MlpCProjBias(int layer) => Layer(layer, "mlp.c_proj.bias");

    /// <summary>
    /// The q, k or v third of c_attn (<paramref name="part"/> 'q', 'k' or 'v'): the engine splits the fused projection at
    /// load (<see cref="Gpt2SplitCheckpoint"/>) so GPT-2's attention runs the same three projections as every family's.
    /// </summary>
    public static string QkvWeight(int layer, char part) => Layer(layer, $"attn.c_attn.{part}.weight");
    public static string QkvBias(int layer, char part) => Layer(layer, $"attn.c_attn.{part}.bias");

    /// <summary>The thirds of c_attn in row order.</summary>
    public static ReadOnlySpan<char> QkvParts => "qkv";

    /// <summary>
    /// The q, k and v thirds of <paramref name="name"/> when it is a fused c_attn weight [3C, C] or bias [3C] of shape
    /// <paramref name="fused"/> (rows split in that order: [C, C] or [C] each); null for every other tensor.
    /// </summary>
    public static IReadOnlyList<(string Name, Shape Shape)>? QkvSplit(string name, Shape fused)
    {
        if (LayerOf(name) is not int layer) return null;
        bool weight = name == CAttnWeight(layer);
        if (!weight && name != CAttnBias(layer)) return null;
        var third = weight ? new Shape(fused[0] / 3, fused[1]) : new Shape(fused[0] / 3);
        var parts = new List<(string, Shape)>(3);
        foreach (char part in QkvParts)
            parts.Add((weight ? QkvWeight(layer, part) : QkvBias(layer, part), third));
        return parts;
    }

    /// <summary><see cref="Expected"/> as the engine holds the model: each c_attn weight and bias replaced by its <see cref="QkvSplit"/>.</summary>
    public static IReadOnlyList<(string Name, Shape Shape)> EngineExpected(Gpt2Config c) =>
        [.. Expected(c).SelectMany(e => QkvSplit(e.Name, e.Shape) ?? [e])];

    /// <summary>The matrix the logits are computed with: wte.weight when tied, else lm_head.weight.</summary>
    public static string Output(Gpt2Config c) => c.TieWordEmbeddings ? Wte : LmHead;

    private static readonly string[] Conv1DSuffixes = [".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"];

    /// <summary>The non-parameter buffers of older GPT2Attention: the causal mask and the −1e4 fill value.</summary>
    private static readonly string[] BufferSuffixes = [".attn.bias", ".attn.masked_bias"];

    /// <summary>
    /// Every tensor a model of this config has, with its shape in the engine's layout ([out, in] for projections), in
    /// state-dict order (embeddings, blocks, ln_f, then lm_head when untied). C = n_embd, I = n_inner, V = vocab.
    /// </summary>
    public static IReadOnlyList<(string Name, Shape Shape)> Expected(Gpt2Config c)
    {
        int d = c.NEmbd, inner = c.NInner;
        var list = new List<(string, Shape)>
        {
            (Wte, new Shape(c.VocabSize, d)),     // [V, C]
            (Wpe, new Shape(c.NPositions, d)),    // [n_positions, C]
        };
        for (int i = 0; i < c.NLayer; i++)
        {
            list.Add((Ln1Weight(i), new Shape(d)));
            list.Add((Ln1Bias(i), new Shape(d)));
            list.Add((CAttnWeight(i), new Shape(3 * d, d)));      // rows: q | k | v
            list.Add((CAttnBias(i), new Shape(3 * d)));
            list.Add((AttnCProjWeight(i), new Shape(d, d)));
            list.Add((AttnCProjBias(i), new Shape(d)));
            list.Add((Ln2Weight(i), new Shape(d)));
            list.Add((Ln2Bias(i), new Shape(d)));
            list.Add((CFcWeight(i), new Shape(inner, d)));
            list.Add((CFcBias(i), new Shape(inner)));
            list.Add((MlpCProjWeight(i), new Shape(d, inner)));
            list.Add((MlpCProjBias(i), new Shape(d)));
        }
        list.Add((LnFWeight, new Shape(d)));
        list.Add((LnFBias, new Shape(d)));
        if (!c.TieWordEmbeddings)
            list.Add((LmHead, new Shape(c.VocabSize, d)));
        return list;
    }

    /// <summary>True for the four projection weights checkpoints store as Conv1D [in, out].</summary>
    public static bool IsConv1DWeight(string canonicalName) =>
        Conv1DSuffixes.Any(s => canonicalName.EndsWith(s, StringComparison.Ordinal));

    /// <summary>
    /// The canonical name of a stored name ("transformer." dropped), or null for the attn.bias / attn.masked_bias buffers,
    /// which carry no parameter (the mask is causal by construction).
    /// </summary>
    public static string? ToCanonical(string storedName)
    {
        string name = storedName.StartsWith(TransformerPrefix, StringComparison.Ordinal) ? storedName[TransformerPrefix.Length..] : storedName;
        return LayerOf(name) is not null && BufferSuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal)) ? null : name;
    }

    /// <summary>The block index of a canonical "h.{i}.…" name, or null for a name outside the blocks.</summary>
    public static int? LayerOf(string canonicalName)
    {
        if (!canonicalName.StartsWith("h.", StringComparison.Ordinal)) return null;
        int end = canonicalName.IndexOf('.', 2);
        return end > 2 && int.TryParse(canonicalName.AsSpan(2, end - 2), NumberStyles.None, CultureInfo.InvariantCulture, out int layer) ? layer : null;
    }

    private static string Layer(int layer, string part) => string.Create(CultureInfo.InvariantCulture, $"h.{layer}.{part}");
}
