using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Training;

/// <summary>
/// What the one <see cref="Model.Transformer"/> forward needs to train: each method runs the forward op on fresh,
/// tape-owned activations and records its backward on <see cref="Tape"/>. LoRA adapters wrap the projections they name,
/// and trainable norm weights (fp32) replace the stored ones. Inference never creates one of these.
/// </summary>
public sealed class TrainingPass(Tape tape, LoraAdapters? lora, IReadOnlyDictionary<string, TrainableParameter> norms,
    float loraDropout = 0f, Xoshiro256StarStar? dropoutRng = null)
{
    public Tape Tape { get; } = tape;
    private IOps Ops => Tape.Ops;

    /// <summary>A fresh activation [dims] that lives until the tape is disposed.</summary>
    public Tensor Activation(params int[] dims) => Tape.NewActivation(dims);

    /// <summary>Embeddings are frozen in LoRA training: no backward is recorded (IOps.EmbeddingBackward is there for full fine-tuning).</summary>
    public void Embedding(Tensor tokens, Tensor table, Tensor y) => Ops.EmbeddingForward(tokens, table, y);

    /// <summary>y = RMSNorm(x)·w, with w the trainable copy of <paramref name="weightName"/> when there is one.</summary>
    public void RmsNorm(Tensor x, Tensor storedWeight, string weightName, float eps, Tensor y)
    {
        var trainable = norms.GetValueOrDefault(weightName);
        var weight = trainable?.Value ?? storedWeight;
        var rstd = Tape.New(DType.F32, x.Shape.Rows); // [T]
        Ops.RmsNormForward(x, weight, eps, y, rstd);
        Tape.Record(() =>
        {
            if (Tape.GradOf(y) is not { } dY) return;
            Tape.AccumulateGrad(x, dX => Ops.RmsNormBackward(x, weight, rstd, dY, dX, trainable?.Grad));
        });
    }

    /// <summary>y = x·Wᵀ (+ the LoRA update of <paramref name="module"/> when it is adapted).</summary>
    public void Linear(Tensor x, Tensor weight, string module, Tensor y) =>
        LoraLinear.Forward(Tape, x, weight, lora?.Find(module), loraDropout, dropoutRng, y);

    /// <summary>
    /// RoPE in place on x. Backward rotates x's gradient back in place: by then it holds d/d(rotated x) from attention,
    /// and afterwards d/d(x before rotation), which is what the projection that produced x reads.
    /// </summary>
    public void RopeInPlace(Tensor x, Tensor positions, int headDim, float theta)
    {
        Ops.RopeForward(x, positions, headDim, theta, x);
        Tape.Record(() =>
        {
            if (Tape.GradOf(x) is { } dX) Ops.RopeBackward(dX, positions, headDim, theta, dX);
        });
    }

    public void Attention(Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config, Tensor y)
    {
        var lse = Tape.New(DType.F32, config.NHeads, batch.TotalTokens); // [H, T]
        Ops.AttentionForward(q, k, v, batch, config, null, y, lse);
        Tape.Record(() =>
        {
            if (Tape.GradOf(y) is not { } dY) return;
            using var dQ = Ops.Allocate(q.Shape, Ops.ActivationDType);
            using var dK = Ops.Allocate(k.Shape, Ops.ActivationDType);
            using var dV = Ops.Allocate(v.Shape, Ops.ActivationDType);
            Ops.AttentionBackward(q, k, v, y, lse, dY, batch, config, dQ, dK, dV);
            Tape.AccumulateGrad(q, g => Ops.Copy(dQ, g));
            Tape.AccumulateGrad(k, g => Ops.Copy(dK, g));
            Tape.AccumulateGrad(v, g => Ops.Copy(dV, g));
        });
    }

    public void SwiGlu(Tensor gate, Tensor up, Tensor y)
    {
        Ops.SwiGluForward(gate, up, y);
        Tape.Record(() =>
        {
            if (Tape.GradOf(y) is not { } dY) return;
            using var dUp = Ops.Allocate(up.Shape, Ops.ActivationDType);
            Tape.AccumulateGrad(gate, dGate => Ops.SwiGluBackward(gate, up, dY, dGate, dUp));
            Tape.AccumulateGrad(up, g => Ops.Copy(dUp, g));
        });
    }

    /// <summary>y = a + b into a fresh y (the residual stream is never updated in place while training: RMSNorm's backward needs its input).</summary>
    public Tensor Add(Tensor a, Tensor b)
    {
        var y = Activation([.. a.Shape.Dims]);
        Ops.Add(a, b, y);
        Tape.Record(() =>
        {
            if (Tape.GradOf(y) is not { } dY) return;
            Tape.AccumulateGrad(a, g => Ops.Copy(dY, g));
            Tape.AccumulateGrad(b, g => Ops.Copy(dY, g));
        });
        return y;
    }
}
