using System.Text.RegularExpressions;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// The one-to-one name map (one native tensor per stored one) between Hugging Face MistralForCausalLM and native names (fixture CONVENTIONS.md):
/// embed_tokens = tok_embeddings, lm_head = output, model.norm = norm, input_layernorm = attention_norm,
/// post_attention_layernorm = ffn_norm, q/k/v/o_proj = wq/wk/wv/wo, gate_proj = w1, up_proj = w3, down_proj = w2.
/// </summary>
public sealed partial class MistralHfTensorNames(MistralConfig config) : ITensorNameMap
{
    private static readonly (string Hf, string Native)[] LayerParts =
    [
        ("self_attn.q_proj.weight", "attention.wq.weight"),
        ("self_attn.k_proj.weight", "attention.wk.weight"),
        ("self_attn.v_proj.weight", "attention.wv.weight"),
        ("self_attn.o_proj.weight", "attention.wo.weight"),
        ("mlp.gate_proj.weight", "feed_forward.w1.weight"),
        ("mlp.down_proj.weight", "feed_forward.w2.weight"),
        ("mlp.up_proj.weight", "feed_forward.w3.weight"),
        ("input_layernorm.weight", "attention_norm.weight"),
        ("post_attention_layernorm.weight", "ffn_norm.weight"),
    ];

    private static readonly (string Hf, string Native)[] Globals =
    [
        ("model.embed_tokens.weight", MistralTensorNames.TokEmbeddings),
        ("model.norm.weight", MistralTensorNames.Norm),
        ("lm_head.weight", MistralTensorNames.Output),
    ];

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)$")]
    private static partial Regex HfLayer();

    [GeneratedRegex(@"^layers\.(\d+)\.(.+)$")]
    private static partial Regex NativeLayer();

    /// <summary>The native name of an HF tensor, or null for a tensor the model does not use (e.g. rotary_emb.inv_freq).</summary>
    public static string? ToNative(string hfName)
    {
        foreach (var (hf, native) in Globals)
            if (hf == hfName) return native;
        var m = HfLayer().Match(hfName);
        if (!m.Success) return null;
        foreach (var (hf, native) in LayerParts)
            if (hf == m.Groups[2].Value) return $"layers.{m.Groups[1].Value}.{native}";
        return null;
    }

    /// <summary>The HF name of a native tensor; throws for a name outside the model.</summary>
    public static string ToHf(string nativeName)
    {
        foreach (var (hf, native) in Globals)
            if (native == nativeName) return hf;
        var m = NativeLayer().Match(nativeName);
        if (m.Success)
            foreach (var (hf, native) in LayerParts)
                if (native == m.Groups[2].Value) return $"model.layers.{m.Groups[1].Value}.{hf}";
        throw new ArgumentException($"'{nativeName}' is not a native Mistral tensor name", nameof(nativeName));
    }

    IReadOnlyList<(string Name, Shape Shape)> ITensorNameMap.ToNative(string storedName, Shape storedShape) =>
        ToNative(storedName) is string native ? [(native, storedShape)] : [];

    string ITensorNameMap.ToStored(string nativeName) => ToHf(nativeName);

    /// <summary>One HF tensor per native tensor, of the same shape.</summary>
    public IReadOnlyList<StoredTensor> StoredTensors(IReadOnlyList<(string Name, Shape Shape)> native) =>
        [.. native.Select(n => new StoredTensor(ToHf(n.Name), n.Shape, [n]))];

    /// <summary>wq/wk rows un-permuted (<see cref="HfRopePermutation"/>); every other tensor as stored.</summary>
    public IReadOnlyList<HostTensor> ToNativeLayout(HostTensor stored)
    {
        string nativeName = ToNative(stored.Name) ?? throw new ArgumentException($"'{stored.Name}' is not a Hugging Face Mistral tensor the model uses", nameof(stored));
        return [RopePermutedHeads(nativeName, config) is int heads
            ? HfRopePermutation.ToNative(stored, nativeName, heads, config.HeadDim)
            : stored.WithName(nativeName)];
    }

    public HostTensor ToStoredLayout(StoredTensor stored, IReadOnlyList<HostTensor> parts)
    {
        var native = parts.Count == 1 ? parts[0] : throw new ArgumentException($"'{stored.Name}' holds one native tensor, got {parts.Count}", nameof(parts));
        return RopePermutedHeads(native.Name, config) is int heads
            ? HfRopePermutation.ToHf(native, stored.Name, heads, config.HeadDim)
            : native.WithName(stored.Name);
    }

    /// <summary>Heads whose rows HF permutes for rotate-half RoPE: n_heads for wq, n_kv_heads for wk, none otherwise.</summary>
    public static int? RopePermutedHeads(string nativeName, MistralConfig config) =>
        nativeName.EndsWith(".attention.wq.weight", StringComparison.Ordinal) ? config.NHeads
        : nativeName.EndsWith(".attention.wk.weight", StringComparison.Ordinal) ? config.NKvHeads
        : null;
}
