using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// A <see cref="Gpt2Checkpoint"/> as the engine loads it: every tensor under its canonical name, except each fused
/// c_attn weight [3C, C] and bias [3C], which appear as their q, k and v thirds (<see cref="Gpt2TensorNames.QkvWeight"/>):
/// rows 0…C−1, C…2C−1 and 2C…3C−1 of the [out, in] weight (<see cref="Gpt2TensorNames.QkvSplit"/>). The thirds are
/// views of the rows of one read of the fused tensor (<see cref="QkvRows"/>, which fuses them back at write).
/// Owns the checkpoint it wraps.
/// </summary>
public sealed class Gpt2SplitCheckpoint : Checkpoint
{
    private readonly Gpt2Checkpoint _fused;
    private readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Fused, int Third)> _thirds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<(string Name, Shape Shape)>> _parts = new(StringComparer.Ordinal);
    private (string Fused, IReadOnlyList<HostTensor> Thirds)? _lastSplit;   // the thirds are read one after another: transpose the fused tensor once, not thrice

    public Gpt2SplitCheckpoint(Gpt2Checkpoint fused)
    {
        _fused = fused;
        foreach (var (name, info) in fused.Tensors)
        {
            if (Gpt2TensorNames.QkvSplit(name, info.Shape) is not { } parts)
            {
                _tensors[name] = info;
                continue;
            }
            _parts[name] = parts;
            for (int third = 0; third < parts.Count; third++)
            {
                var (part, shape) = parts[third];
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
        if (_lastSplit?.Fused != split.Fused)
            _lastSplit = (split.Fused, QkvRows.Split(_fused.Read(split.Fused), _parts[split.Fused]));   // [3C, C] or [3C], engine layout
        return _lastSplit.Value.Thirds[split.Third];
    }

    public override void Dispose()
    {
        _lastSplit = null;
        _fused.Dispose();
    }
}
