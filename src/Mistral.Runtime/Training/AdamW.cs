using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training;

/// <summary>
/// torch.optim.AdamW over a fixed list of fp32 parameters, all of them in one multi-tensor
/// <see cref="IOps.AdamWStep(IReadOnlyList{AdamWTensors}, AdamWStepArgs)"/> (one launch on a device): decoupled weight
/// decay on each tensor whose <see cref="TrainableParameter.Decay"/> is set (two parameter groups, as Hugging Face
/// Trainer builds them; LoRA decays every tensor, as its reference), bias-corrected moments. m and v live on the
/// ops' device in fp32. <see cref="Step"/> counts completed updates (torch's state['step']).
/// </summary>
public sealed class AdamW : IOptimizer, IDisposable
{
    private readonly IOps _ops;
    private readonly IReadOnlyList<TrainableParameter> _parameters;
    private readonly Tensor[] _m, _v;
    private readonly float _beta1, _beta2, _eps, _weightDecay;

    public AdamW(IOps ops, IReadOnlyList<TrainableParameter> parameters, double beta1, double beta2, double eps, double weightDecay)
    {
        _ops = ops;
        _parameters = parameters;
        _m = parameters.Select(p => ops.Allocate(p.Value.Shape, DType.F32)).ToArray();
        _v = parameters.Select(p => ops.Allocate(p.Value.Shape, DType.F32)).ToArray();
        (_beta1, _beta2, _eps, _weightDecay) = ((float)beta1, (float)beta2, (float)eps, (float)weightDecay);
    }

    public int Step { get; private set; }

    /// <summary>One update of every parameter from its Grad, scaled by <paramref name="gradScale"/> first (clipping).</summary>
    public void Update(double lr, float gradScale = 1f)
    {
        Step++;
        var args = new AdamWStepArgs((float)lr, _beta1, _beta2, _eps, _weightDecay, Step, gradScale);
        var tensors = new AdamWTensors[_parameters.Count];
        for (int i = 0; i < tensors.Length; i++)
            tensors[i] = new AdamWTensors(_parameters[i].Value, _parameters[i].Grad, _m[i], _v[i], _parameters[i].Decay ? _weightDecay : 0f);
        _ops.AdamWStep(tensors, args);
    }

    /// <summary>"{name}.exp_avg" and "{name}.exp_avg_sq" per parameter, fp32 (for checkpoints).</summary>
    public IEnumerable<HostTensor> ExportState()
    {
        for (int i = 0; i < _parameters.Count; i++)
        {
            yield return Host(_parameters[i].Name + ".exp_avg", _m[i]);
            yield return Host(_parameters[i].Name + ".exp_avg_sq", _v[i]);
        }
    }

    private HostTensor Host(string name, Tensor t) => HostTensor.FromFloat32(name, _ops.DownloadFloats(t), t.Shape);

    /// <summary>Restores moments written by <see cref="ExportState"/> and the step count; names the file on a mismatch.</summary>
    public void ImportState(IReadOnlyDictionary<string, HostTensor> state, int step, string file)
    {
        for (int i = 0; i < _parameters.Count; i++)
        {
            Load(state, _parameters[i].Name + ".exp_avg", _m[i], file);
            Load(state, _parameters[i].Name + ".exp_avg_sq", _v[i], file);
        }
        Step = step;
    }

    private void Load(IReadOnlyDictionary<string, HostTensor> state, string name, Tensor dst, string file)
    {
        if (!state.TryGetValue(name, out var t)) throw new CheckpointFormatException(file, $"optimizer tensor '{name}' not found");
        if (!t.Shape.Equals(dst.Shape)) throw new CheckpointFormatException(file, $"optimizer tensor '{name}' has shape {t.Shape}, expected {dst.Shape}");
        using var up = _ops.Upload(t.ToFloat32(), t.Shape, DType.F32);
        _ops.Copy(up, dst);
    }

    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
