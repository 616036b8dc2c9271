using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Training.Policies;

/// <summary>
/// LoRA training: the adapters on the target projections and, when trained (lora.train_norms), fp32 copies of the norm
/// weights; the base model stays frozen. Every tensor decays (the LoRA reference's single group). Dropout on the
/// adapters' input is drawn from <see cref="DropoutRng"/> in training passes only.
/// Owns the norm copies; not the model or the adapters.
/// </summary>
public sealed class LoraPolicy : IParameterPolicy
{
    private readonly Dictionary<string, TrainableParameter> _norms = new(StringComparer.Ordinal);
    private readonly float _dropout;

    public LoraPolicy(IOps ops, ICausalLm model, LoraAdapters lora, bool trainNorms, float dropout, Xoshiro256StarStar dropoutRng)
    {
        Lora = lora;
        _dropout = dropout;
        DropoutRng = dropoutRng;
        if (trainNorms)
            foreach (var norm in model.NormWeights)
            {
                var value = ops.Allocate(norm.Tensor.Shape, DType.F32);
                ops.Copy(norm.Tensor, value);
                _norms[norm.Name] = new TrainableParameter(norm.Name, value, ops.Allocate(norm.Tensor.Shape, DType.F32));
            }
        Parameters = [.. lora.Parameters, .. _norms.Values];
    }

    /// <summary>LoRA A/B in model order, then the norm weights (layer by layer, then the final norm).</summary>
    public IReadOnlyList<TrainableParameter> Parameters { get; }

    public LoraAdapters Lora { get; }
    LoraAdapters? IParameterPolicy.Lora => Lora;

    /// <summary>The trained norm copies (empty unless train_norms).</summary>
    public IEnumerable<TrainableParameter> Norms => _norms.Values;

    /// <summary>The RNG of the dropout masks; replaced on resume with its saved state.</summary>
    public Xoshiro256StarStar DropoutRng { get; set; }

    public bool TrainsModelWeights => false;

    public TrainingPass Pass(Tape tape, bool train) =>
        train ? new TrainingPass(tape, Lora, _norms, _dropout, DropoutRng) : new TrainingPass(tape, Lora, _norms);

    /// <summary>Nothing to do: the forward reads the fp32 adapters and norm copies themselves.</summary>
    public void SyncWorkingWeights() { }

    public void Dispose()
    {
        foreach (var p in _norms.Values)
        {
            p.Value.Dispose();
            p.Grad.Dispose();
        }
        _norms.Clear();
    }
}
