using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Training.Policies;

/// <summary>
/// Full-parameter training: every stored weight of the model is trainable, a tied tensor once (GPT-2's wte receives the
/// embedding's and the output head's gradient in one parameter). Weight decay as Hugging Face Trainer groups it: none on
/// biases and norm weights (<see cref="IsNoDecay"/>), decay on the rest, embeddings included.
/// Mixed precision: <see cref="TrainableParameter.Value"/> is the fp32 master; the model's weight (activation dtype) is
/// the working copy the forward reads. In fp32 they are the same tensor (nothing copied); otherwise the working copy is
/// rewritten from the master by <see cref="SyncWorkingWeights"/> after every update.
/// Owns the gradients and any separate masters; not the model's weights.
/// </summary>
public sealed class FullParameterPolicy : IParameterPolicy
{
    private readonly IOps _ops;
    private readonly Dictionary<string, TrainableParameter> _byName = new(StringComparer.Ordinal);
    private readonly List<(Tensor Master, Tensor Working)> _copies = [];

    /// <param name="weights">the model's weights (resident on <paramref name="ops"/>); trained in place when fp32.</param>
    /// <param name="master">exact fp32 values for the masters by native name when the weights are narrower (e.g. the
    /// initial weights on the host); null: the masters start as the working weights widened.</param>
    public FullParameterPolicy(IOps ops, ICausalLm model, ModelWeights weights, Func<string, HostTensor>? master = null)
    {
        _ops = ops;
        var noDecay = model.NormWeights.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var parameters = new List<TrainableParameter>();
        try
        {
            foreach (var (name, shape) in ModelFamilies.Of(weights.Config).Schema(weights.Config).Stored)
            {
                var working = weights[name];
                var value = working.DType == DType.F32 ? working : Master(name, working, master);
                var p = new TrainableParameter(name, value, ops.Allocate(shape, DType.F32), !IsNoDecay(name, noDecay));
                parameters.Add(p);
                _byName[name] = p;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        Parameters = parameters;
    }

    private Tensor Master(string name, Tensor working, Func<string, HostTensor>? master)
    {
        var value = _ops.Allocate(working.Shape, DType.F32);
        _copies.Add((value, working));
        if (master is null) _ops.Copy(working, value);
        else
        {
            using var up = _ops.Upload(master(name).ToFloat32(), working.Shape, DType.F32);
            _ops.Copy(up, value);
        }
        return value;
    }

    /// <summary>Hugging Face Trainer's no-decay group: every bias and every norm weight (<paramref name="normWeights"/>).</summary>
    public static bool IsNoDecay(string name, IReadOnlySet<string> normWeights) =>
        name.EndsWith(".bias", StringComparison.Ordinal) || normWeights.Contains(name);

    /// <summary>Every stored weight in checkpoint order.</summary>
    public IReadOnlyList<TrainableParameter> Parameters { get; }

    public LoraAdapters? Lora => null;

    public bool TrainsModelWeights => true;

    public TrainingPass Pass(Tape tape, bool train) => new(tape, null, _byName);

    public void SyncWorkingWeights()
    {
        foreach (var (master, working) in _copies) _ops.Copy(master, working);
    }

    public void Dispose()
    {
        foreach (var p in _byName.Values) p.Grad.Dispose();
        foreach (var (master, _) in _copies) master.Dispose();
        _byName.Clear();
        _copies.Clear();
    }
}
