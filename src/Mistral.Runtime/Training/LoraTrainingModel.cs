using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Training;

/// <summary>
/// The base model (any family) plus what LoRA training changes: adapters on the target projections and, when trained,
/// fp32 copies of the norm weights. The forward is the inference model's, run with a <see cref="TrainingPass"/>.
/// Loss (CONVENTIONS.md "Training loss"): Σ_t w_t · CE_t / Σ_t w_t over every target of the optimizer step.
/// Owns the norm copies; not the model, the adapters or the ops.
/// </summary>
public sealed class LoraTrainingModel : IDisposable
{
    private readonly IOps _ops;
    private readonly LoraAdapters _lora;
    private readonly Dictionary<string, TrainableParameter> _norms = new(StringComparer.Ordinal);
    private readonly float _dropout;
    private Xoshiro256StarStar _dropoutRng;

    public LoraTrainingModel(IOps ops, ICausalLm model, LoraAdapters lora, bool trainNorms, float dropout, Xoshiro256StarStar dropoutRng)
    {
        _ops = ops;
        _lora = lora;
        _dropout = dropout;
        _dropoutRng = dropoutRng;
        Model = model;
        if (trainNorms)
            foreach (var norm in model.NormWeights) AddNorm(norm.Name, norm.Tensor);
        Parameters = [.. lora.Parameters, .. _norms.Values];
    }

    private void AddNorm(string name, Tensor stored)
    {
        var value = _ops.Allocate(stored.Shape, DType.F32);
        _ops.Copy(stored, value);
        _norms[name] = new TrainableParameter(name, value, _ops.Allocate(stored.Shape, DType.F32));
    }

    /// <summary>Replaces the dropout RNG (resume restores its saved state).</summary>
    public void SetDropoutRng(Xoshiro256StarStar rng) => _dropoutRng = rng;

    public IModelConfig Config => Model.Config;
    public ICausalLm Model { get; }
    public LoraAdapters Lora => _lora;

    /// <summary>LoRA A/B in model order, then the norm weights (layer by layer, then the final norm).</summary>
    public IReadOnlyList<TrainableParameter> Parameters { get; }

    public IEnumerable<TrainableParameter> Norms => _norms.Values;

    /// <summary>Recompute each block's activations in the backward instead of keeping them (<see cref="TrainingPass.Recompute"/>).</summary>
    public bool Recompute { get; init; }

    public void ZeroGrads()
    {
        foreach (var p in Parameters) _ops.Fill(p.Grad, 0f);
    }

    /// <summary>
    /// Forward and backward of one micro-batch: every parameter's Grad += ∂(Σ w·CE / <paramref name="lossDenominator"/>)/∂p.
    /// Returns Σ w·CE of this micro-batch; <paramref name="perTokenCe"/> [T] receives each target's unweighted CE when given.
    /// </summary>
    public double ForwardBackward(TrainBatch batch, double lossDenominator, Span<float> perTokenCe = default)
    {
        using var tape = new Tape(_ops);
        var pass = new TrainingPass(tape, _lora, _norms, _dropout, _dropoutRng) { Recompute = Recompute };
        var (logits, targets, weights, sum) = Loss(batch, pass, perTokenCe);
        using (targets)
        using (weights)
        {
            var dLogits = tape.NewActivation([.. logits.Shape.Dims]);
            _ops.CrossEntropyBackward(logits, targets, weights, (float)(1.0 / lossDenominator), dLogits);
            tape.Backward(logits, dLogits);
        }
        return sum;
    }

    /// <summary>Σ w·CE of a batch with the current weights, no dropout, no gradients.</summary>
    public double LossSum(TrainBatch batch, Span<float> perTokenCe = default)
    {
        using var tape = new Tape(_ops);
        var (_, targets, weights, sum) = Loss(batch, new TrainingPass(tape, _lora, _norms), perTokenCe);
        targets.Dispose();
        weights.Dispose();
        return sum;
    }

    private (Tensor Logits, Tensor Targets, Tensor Weights, double Sum) Loss(TrainBatch batch, TrainingPass pass, Span<float> perTokenCe)
    {
        int T = batch.TokenCount;
        var logits = Model.Forward(batch.Inputs, batch.Attention, pass);    // [T, V], tape-owned
        var targets = _ops.Upload(batch.Targets, new Shape(T));                   // I32 [T]
        var weights = _ops.Upload(batch.Weights, new Shape(T), DType.F32);        // [T]
        var losses = pass.Tape.New(DType.F32, T);                                 // [T]
        double sum = _ops.CrossEntropyForward(logits, targets, weights, losses);
        if (!perTokenCe.IsEmpty) _ops.Download(losses, perTokenCe);
        return (logits, targets, weights, sum);
    }

    /// <summary>Trained tensors under their reference names, fp32 on the host (adapters and norms, for checkpoints).</summary>
    public IEnumerable<HostTensor> Export(IEnumerable<TrainableParameter> which)
    {
        foreach (var p in which)
        {
            var values = new float[p.Value.ElementCount];
            _ops.Download(p.Value, values);
            yield return HostTensor.FromFloat32(p.Name, values, p.Value.Shape);
        }
    }

    /// <summary>Overwrites parameter values from host tensors (resume); names the file on a missing or misshapen tensor.</summary>
    public void Import(IReadOnlyDictionary<string, HostTensor> tensors, IEnumerable<TrainableParameter> which, string file)
    {
        foreach (var p in which)
        {
            if (!tensors.TryGetValue(p.Name, out var t)) throw new CheckpointFormatException(file, $"tensor '{p.Name}' not found");
            if (!t.Shape.Equals(p.Value.Shape)) throw new CheckpointFormatException(file, $"tensor '{p.Name}' has shape {t.Shape}, the run needs {p.Value.Shape}");
            using var up = _ops.Upload(t.ToFloat32(), t.Shape, DType.F32);
            _ops.Copy(up, p.Value);
        }
    }

    public void Dispose()
    {
        foreach (var p in _norms.Values)
        {
            p.Value.Dispose();
            p.Grad.Dispose();
        }
    }
}
