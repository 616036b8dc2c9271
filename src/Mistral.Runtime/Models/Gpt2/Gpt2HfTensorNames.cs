using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// GPT2LMHeadModel's state dict against the engine's tensors: every name but lm_head.weight under "transformer.",
/// the four Conv1D weights stored [in, out], and each c_attn weight and bias one stored tensor holding the engine's q,
/// k and v parts (<see cref="Gpt2TensorNames.QkvSplit"/>, the description <see cref="Gpt2SplitCheckpoint"/> reads
/// with). A tied head is wte itself and is not stored. What the writers use to write a GPT-2 model that transformers
/// loads as is; reading goes through <see cref="Gpt2Checkpoint"/>, which also takes the other layouts users have.
/// </summary>
public sealed class Gpt2HfTensorNames : ITensorNameMap
{
    private readonly Dictionary<string, StoredTensor> _holding = new(StringComparer.Ordinal);   // engine name → stored tensor

    public Gpt2HfTensorNames(Gpt2Config config)
    {
        foreach (var (name, shape) in Gpt2TensorNames.Expected(config))
        {
            var stored = new StoredTensor(StoredName(name), StoredShape(name, shape), Gpt2TensorNames.QkvSplit(name, shape) ?? [(name, shape)]);
            foreach (var part in stored.Parts)
                _holding[part.Name] = stored;
        }
    }

    public IReadOnlyList<(string Name, Shape Shape)> ToNative(string storedName, Shape storedShape)
    {
        if (Gpt2TensorNames.ToCanonical(storedName) is not string canonical)
            return [];
        var shape = StoredShape(canonical, storedShape);   // a transpose is its own inverse
        return Gpt2TensorNames.QkvSplit(canonical, shape) ?? [(canonical, shape)];
    }

    public string ToStored(string nativeName) =>
        _holding.TryGetValue(nativeName, out var stored) ? stored.Name
            : throw new ArgumentException($"'{nativeName}' is not an engine GPT-2 tensor of this config", nameof(nativeName));

    /// <summary>The stored tensors holding these engine tensors, in the order their parts come.</summary>
    public IReadOnlyList<StoredTensor> StoredTensors(IReadOnlyList<(string Name, Shape Shape)> native) =>
        [.. native.Select(n => _holding.TryGetValue(n.Name, out var stored) ? stored
            : throw new ArgumentException($"'{n.Name}' is not an engine GPT-2 tensor of this config", nameof(native))).Distinct()];

    /// <summary>Conv1D weights transposed to [out, in], then a fused c_attn split into its q, k and v rows.</summary>
    public IReadOnlyList<HostTensor> ToNativeLayout(HostTensor stored)
    {
        string canonical = Gpt2TensorNames.ToCanonical(stored.Name)
            ?? throw new ArgumentException($"'{stored.Name}' is a GPT-2 buffer, not a parameter", nameof(stored));
        var engine = Gpt2TensorNames.IsConv1DWeight(canonical) ? Conv1DWeight.ToLinear(stored, canonical) : stored.WithName(canonical);
        return Gpt2TensorNames.QkvSplit(canonical, engine.Shape) is { } parts ? QkvRows.Split(engine, parts) : [engine];
    }

    /// <summary>q, k and v rows fused back into c_attn, then Conv1D weights transposed to [in, out].</summary>
    public HostTensor ToStoredLayout(StoredTensor stored, IReadOnlyList<HostTensor> parts)
    {
        string canonical = Gpt2TensorNames.ToCanonical(stored.Name)!;
        var engine = parts.Count == 1 ? parts[0] : QkvRows.Fuse(canonical, StoredShape(canonical, stored.Shape), parts);
        return Gpt2TensorNames.IsConv1DWeight(canonical) ? Conv1DWeight.ToConv1D(engine, stored.Name) : engine.WithName(stored.Name);
    }

    /// <summary>GPT2LMHeadModel's name: "transformer." before everything but the head.</summary>
    private static string StoredName(string canonical) =>
        canonical == Gpt2TensorNames.LmHead ? canonical : Gpt2TensorNames.TransformerPrefix + canonical;

    /// <summary>The other layout's shape of a tensor: [in, out] ↔ [out, in] for a Conv1D weight, else the same.</summary>
    private static Shape StoredShape(string canonical, Shape shape) =>
        Gpt2TensorNames.IsConv1DWeight(canonical) && shape.Rank == 2 ? new Shape(shape[1], shape[0]) : shape;
}
