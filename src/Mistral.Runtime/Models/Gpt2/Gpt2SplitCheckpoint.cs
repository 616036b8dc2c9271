using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// A <see cref="Gpt2Checkpoint"/> as the engine loads it: every tensor under its canonical name, except each fused
/// c_attn weight [3C, C] and bias [3C], which appear as their q, k and v thirds (<see cref="Gpt2TensorNames.QkvWeight"/>):
/// rows 0…C−1, C…2C−1 and 2C…3C−1 of the [out, in] weight. The thirds are views of the rows, sliced once at load.
/// Owns the checkpoint it wraps.
/// </summary>
public sealed class Gpt2SplitCheckpoint : Checkpoint
{
    private readonly Gpt2Checkpoint _fused;
    private readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Fused, int Third)> _thirds = new(StringComparer.Ordinal);

    public Gpt2SplitCheckpoint(Gpt2Checkpoint fused, Gpt2Config config)
    {
        _fused = fused;
        foreach (var (name, info) in fused.Tensors)
        {
            if (Gpt2TensorNames.LayerOf(name) is not int layer || (name != Gpt2TensorNames.CAttnWeight(layer) && name != Gpt2TensorNames.CAttnBias(layer)))
            {
                _tensors[name] = info;
                continue;
            }
            bool weight = name == Gpt2TensorNames.CAttnWeight(layer);
            var parts = Gpt2TensorNames.QkvParts;
            for (int third = 0; third < parts.Length; third++)
            {
                string part = weight ? Gpt2TensorNames.QkvWeight(layer, parts[third]) : Gpt2TensorNames.QkvBias(layer, parts[third]);
                var shape = weight ? new Kernels.Tensors.Shape(config.NEmbd, config.NEmbd) : new Kernels.Tensors.Shape(config.NEmbd);
                _tensors[part] = info with { Name = part, Shape = shape };
                _thirds[part] = (name, third);
            }
        }
    }

    public override IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;
    public override IReadOnlyList<string> Files => _fused.Files;
    public override bool IsSharded => _fused.IsSharded;

    public override HostTensor Read(string nativeName)
    {
        if (!_thirds.TryGetValue(nativeName, out var split))
            return _fused.Read(nativeName);
        var whole = _fused.Read(split.Fused);                  // [3C, C] or [3C], engine layout
        long bytes = whole.Data.Length / 3;
        var shape = whole.Shape.Rank == 2 ? new Kernels.Tensors.Shape(whole.Shape[0] / 3, whole.Shape[1]) : new Kernels.Tensors.Shape(whole.Shape[0] / 3);
        return new HostTensor(nativeName, whole.DType, shape, whole.Data.Slice((int)(split.Third * bytes), (int)bytes));
    }

    public override void Dispose() => _fused.Dispose();
}
