using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// A <see cref="Gpt2Checkpoint"/> as the engine loads it: every tensor under its canonical name, except each fused
/// c_attn weight [3C, C] and bias [3C], which appear as their q, k and v thirds (<see cref="Gpt2TensorNames.QkvWeight"/>):
/// rows 0…C−1, C…2C−1 and 2C…3C−1 of the [out, in] weight (<see cref="Gpt2TensorNames.QkvSplit"/>). The thirds are
/// views of the rows of one read of the fused tensor.
/// Owns the checkpoint it wraps.
/// </summary>
public sealed class Gpt2SplitCheckpoint : Checkpoint
{
    private readonly Gpt2Checkpoint _fused;
    private readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Fused, int Third)> _thirds = new(StringComparer.Ordinal);
    private HostTensor? _lastFused;   // the thirds are read one after another: transpose the fused tensor once, not thrice

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
        if (_lastFused?.Name != split.Fused) _lastFused = _fused.Read(split.Fused);
        var whole = _lastFused!;                               // [3C, C] or [3C], engine layout
        int bytes = whole.Data.Length / 3;
        return new HostTensor(nativeName, whole.DType, _tensors[nativeName].Shape, whole.Data.Slice(split.Third * bytes, bytes));
    }

    public override void Dispose()
    {
        _lastFused = null;
        _fused.Dispose();
    }
}
