using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;
using Mistral.Runtime.Training.Policies;

namespace Mistral.Runtime.Training;

/// <summary>
/// The base model (any family) plus a parameter policy that says what trains: LoRA adapters (<see cref="LoraPolicy"/>)
/// or every weight (<see cref="FullParameterPolicy"/>). The forward is the inference model's, run with the policy's
/// <see cref="TrainingPass"/>. Loss (CONVENTIONS.md "Training loss"): Σ_t w_t · CE_t / Σ_t w_t over every target of
/// the optimizer step. Owns the policy; not the model or the ops.
/// </summary>
public sealed class TrainingModel(IOps ops, ICausalLm model, IParameterPolicy policy) : IDisposable
{
    /// <summary>LoRA training (<see cref="LoraPolicy"/>): adapters, norm copies when <paramref name="trainNorms"/>, dropout on the adapters' input.</summary>
    public static TrainingModel Lora(IOps ops, ICausalLm model, LoraAdapters lora, bool trainNorms, float dropout, Xoshiro256StarStar dropoutRng) =>
        new(ops, model, new LoraPolicy(ops, model, lora, trainNorms, dropout, dropoutRng));

    /// <summary>Full-parameter training of <paramref name="weights"/> (<see cref="FullParameterPolicy"/>; <paramref name="master"/>: exact fp32 masters).</summary>
    public static TrainingModel Full(IOps ops, ICausalLm model, ModelWeights weights, Func<string, HostTensor>? master = null) =>
        new(ops, model, new FullParameterPolicy(ops, model, weights, master));

    public IModelConfig Config => Model.Config;
    public ICausalLm Model { get; } = model;
    public IParameterPolicy Policy { get; } = policy;

    /// <summary>The policy's trained tensors, each once, in its fixed order.</summary>
    public IReadOnlyList<TrainableParameter> Parameters => Policy.Parameters;

    /// <summary>Recompute each block's activations in the backward instead of keeping them (<see cref="TrainingPass.Recompute"/>).</summary>
    public bool Recompute { get; set; }

    public void ZeroGrads()
    {
        foreach (var p in Parameters) ops.Fill(p.Grad, 0f);
    }

    /// <summary>
    /// Forward and backward of one micro-batch: every parameter's Grad += ∂(Σ w·CE / <paramref name="lossDenominator"/>)/∂p.
    /// Returns Σ w·CE of this micro-batch; <paramref name="perTokenCe"/> [T] receives each target's unweighted CE when given.
    /// </summary>
    public double ForwardBackward(TrainBatch batch, double lossDenominator, Span<float> perTokenCe = default)
    {
        using var tape = new Tape(ops);
        var pass = Policy.Pass(tape);
        pass.Recompute = Recompute;
        var logits = Model.Forward(batch.Inputs, batch.Attention, pass);    // [T, V], tape-owned
        var (targets, weights) = Targets(batch);
        using (targets)
        using (weights)
        {
            double sum = CrossEntropy(logits, targets, weights, perTokenCe);
            var dLogits = tape.NewActivation([.. logits.Shape.Dims]);
            ops.CrossEntropyBackward(logits, targets, weights, (float)(1.0 / lossDenominator), dLogits);
            tape.Backward(logits, dLogits);
            return sum;
        }
    }

    /// <summary>
    /// Σ w·CE of a batch with the current weights, no dropout, no gradients: the inference forward with the policy's
    /// overrides applied (no tape, nothing recorded).
    /// </summary>
    public double LossSum(TrainBatch batch, Span<float> perTokenCe = default)
    {
        var (targets, weights) = Targets(batch);
        using (targets)
        using (weights)
            return CrossEntropy(Model.Forward(batch.Inputs, batch.Attention, Policy.Overrides), targets, weights, perTokenCe);
    }

    /// <summary>One optimizer update of every parameter (gradients scaled by <paramref name="gradScale"/> first), then the working weights follow.</summary>
    public void Update(IOptimizer optimizer, double lr, float gradScale = 1f)
    {
        optimizer.Update(lr, gradScale);
        Policy.SyncWorkingWeights();
    }

    private (Tensor Targets, Tensor Weights) Targets(TrainBatch batch) =>
        (ops.Upload(batch.Targets, new Shape(batch.TokenCount)),                     // I32 [T]
         ops.Upload(batch.Weights, new Shape(batch.TokenCount), DType.F32));          // [T]

    private double CrossEntropy(Tensor logits, Tensor targets, Tensor weights, Span<float> perTokenCe)
    {
        using var losses = ops.Allocate(new Shape(targets.Shape[0]), DType.F32);     // [T]
        double sum = ops.CrossEntropyForward(logits, targets, weights, losses);
        if (!perTokenCe.IsEmpty) ops.Download(losses, perTokenCe);
        return sum;
    }

    /// <summary>Trained tensors under their reference names, fp32 on the host (for checkpoints); all of them when <paramref name="which"/> is null.</summary>
    public IEnumerable<HostTensor> Export(IEnumerable<TrainableParameter>? which = null)
    {
        foreach (var p in which ?? Parameters)
            yield return HostTensor.FromFloat32(p.Name, ops.DownloadFloats(p.Value), p.Value.Shape);
    }

    /// <summary>Overwrites parameter values from host tensors (resume), then the working weights; names the file on a missing or misshapen tensor.</summary>
    public void Import(IReadOnlyDictionary<string, HostTensor> tensors, IEnumerable<TrainableParameter> which, string file)
    {
        foreach (var p in which)
        {
            if (!tensors.TryGetValue(p.Name, out var t)) throw new CheckpointFormatException(file, $"tensor '{p.Name}' not found");
            if (!t.Shape.Equals(p.Value.Shape)) throw new CheckpointFormatException(file, $"tensor '{p.Name}' has shape {t.Shape}, the run needs {p.Value.Shape}");
            using var up = ops.Upload(t.ToFloat32(), t.Shape, DType.F32);
            ops.Copy(up, p.Value);
        }
        Policy.SyncWorkingWeights();
    }

    public void Dispose() => Policy.Dispose();
}
