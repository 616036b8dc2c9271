using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Runtime.Modules;

/// <summary>
/// A linear layer y = x·Wᵀ with W [out, in] as checkpoints store it; every projection of a model goes through one.
/// While training, the LoRA adapter the pass holds for <see cref="Name"/> is added: y = x·Wᵀ + s·(drop(x)·Aᵀ)·Bᵀ with
/// W frozen, A [r, in], B [out, r]. Backward (dY [T, out]):
/// <code>
/// dB += s · dYᵀ · u          u = drop(x)·Aᵀ [T, r], saved
/// du  = s · dY · B           [T, r]
/// dA += duᵀ · drop(x)
/// dx += dY · W  +  drop'(du · A)
/// </code>
/// When the pass trains W itself (full-parameter training: a trainable named <see cref="WeightName"/>), the forward
/// still reads <see cref="Weight"/> (the model's working copy, the same tensor as the fp32 master in fp32) and the
/// backward adds dW += dYᵀ · x into the trainable's fp32 gradient. A tied output head names the embedding's weight, so
/// one parameter receives both contributions.
/// An optional bias [out] is added right after the base GEMM; its gradient (the column sums of dY) goes to the
/// trainable named <see cref="BiasName"/> when the pass trains it.
/// Dropout (inverted, p = rate) is drawn on the host from the training RNG: correct everywhere, fast nowhere — a device
/// kernel is future work; the default rate is 0 and then nothing leaves the device.
/// Legend: T = tokens, r = rank.
/// </summary>
/// <param name="name">the module name adapters and trained weights are keyed by, e.g. "layers.0.attention.wq".</param>
/// <param name="block">the transformer block holding it, or null (the output head).</param>
/// <param name="target">its LoRA target name within the block, e.g. "wq"; null when LoRA does not adapt it.</param>
/// <param name="bias">[out], or null for a projection without one.</param>
/// <param name="weightName">the checkpoint name of W when it is not Name + ".weight" (a head tied to the embeddings).</param>
public sealed class Linear(string name, Tensor weight, int? block = null, string? target = null, Tensor? bias = null, string? weightName = null)
{
    public string Name { get; } = name;
    public Tensor Weight { get; } = weight;
    public int? Block { get; } = block;
    public string? Target { get; } = target;
    public Tensor? Bias { get; } = bias;

    /// <summary>The checkpoint name of W, e.g. "h.0.attn.c_proj.weight", or "wte.weight" for GPT-2's tied head.</summary>
    public string WeightName { get; } = weightName ?? name + ".weight";

    /// <summary>The checkpoint name of the bias, e.g. "h.0.attn.c_proj.bias".</summary>
    public string BiasName => Name + ".bias";

    public int Out => Weight.Shape[0];
    public int In => Weight.Shape[1];

    /// <summary>x [T, in] → y [T, out] (overwritten).</summary>
    public void Forward(ForwardPass pass, Tensor x, Tensor y)
    {
        pass.Ops.Gemm(x, false, Weight, true, 1f, 0f, y);
        if (pass.Train is not { } train)
        {
            // Evaluation of a LoRA run: the adapter added as training adds it (before the bias), no dropout, nothing recorded.
            if (pass.Overrides?.Lora(Name) is { } adapter)
                AddLora(pass.Ops, adapter, x, pass.Buffer("lora_u", x.Shape.Rows, adapter.Rank), y);
            if (Bias is not null) pass.Ops.BiasAdd(y, Bias, y);
            return;
        }
        Record(train, x, y);
        if (Bias is not null) RecordBias(train, y);
    }

    /// <summary>
    /// True when this layer's forward in <paramref name="pass"/> is x·Wᵀ (+ bias) and nothing else: inference, no
    /// adapter. A fused op (<see cref="IOps.Linears"/>, <see cref="IOps.SwiGluLinear"/>, <see cref="IOps.LinearAdd"/>) may then
    /// stand in for <see cref="Forward"/>.
    /// </summary>
    public bool IsPlain(ForwardPass pass) => pass.Train is null && pass.Overrides?.Lora(Name) is null;

    /// <summary>
    /// y += this layer's output, for inference (a residual add). Without a bias or an adapter it is one
    /// <see cref="IOps.LinearAdd"/> (on a device, one launch with the add in its epilogue for a decode step; the same
    /// bits as the GEMM and the add); otherwise <see cref="Forward"/> into a scratch buffer and an add.
    /// </summary>
    public void ForwardAdd(ForwardPass pass, Tensor x, Tensor y)
    {
        if (pass.Train is not null) throw new InvalidOperationException($"{Name}: the fused residual add is for inference; training records the add");
        if (Bias is null && IsPlain(pass))
        {
            pass.Ops.LinearAdd(x, Weight, y);
            return;
        }
        var output = pass.Buffer("linear_out", y.Shape.Rows, Out);   // [T, out]
        Forward(pass, x, output);
        pass.Ops.Add(y, output, y);
    }

    /// <summary>y += bias; its backward adds the column sums of dY to the trained bias (dx does not depend on it).</summary>
    private void RecordBias(TrainingPass train, Tensor y)
    {
        var tape = train.Tape;
        var trained = train.Trainable(BiasName);
        tape.Ops.BiasAdd(y, Bias!, y);   // the working copy: the trained value itself in fp32, refreshed after each step otherwise
        if (trained is null) return;
        tape.Record(() =>
        {
            if (tape.GradOf(y) is { } dY) tape.Ops.BiasBackward(dY, trained.Grad);
        });
    }

    /// <summary>Adds the LoRA update when the pass adapts this module, and records the backward.</summary>
    private void Record(TrainingPass train, Tensor x, Tensor y)
    {
        var tape = train.Tape;
        var ops = tape.Ops;
        var lora = train.Lora(Name);
        var trained = train.Trainable(WeightName);
        if (lora is null)
        {
            tape.Record(() =>
            {
                if (tape.GradOf(y) is not { } dY) return;
                if (trained is not null) ops.Gemm(dY, true, x, false, 1f, 1f, trained.Grad);   // dW [out, in] += dYᵀ · x
                tape.AccumulateGemm(x, dY, false, Weight, false, 1f);
            });
            return;
        }

        int T = x.Shape.Rows, r = lora.Rank;
        float[]? mask = train.LoraDropout > 0
            ? DropoutMask((int)x.ElementCount, train.LoraDropout, train.DropoutRng ?? throw new InvalidOperationException("LoRA dropout needs the pass's dropout RNG"))
            : null;
        var xd = mask is null ? x : Masked(tape, x, mask);   // [T, in]
        var u = tape.NewActivation(T, r);                     // [T, r]
        AddLora(ops, lora, xd, u, y);

        tape.Record(() =>
        {
            if (tape.GradOf(y) is not { } dY) return;
            ops.Gemm(dY, true, u, false, lora.Scaling, 1f, lora.B.Grad);
            using var du = ops.Allocate(new Shape(T, r), ops.ActivationDType);
            ops.Gemm(dY, false, lora.B.Value, false, lora.Scaling, 0f, du);
            ops.Gemm(du, true, xd, false, 1f, 1f, lora.A.Grad);
            if (trained is not null) ops.Gemm(dY, true, x, false, 1f, 1f, trained.Grad);
            tape.AccumulateGemm(x, dY, false, Weight, false, 1f);
            if (mask is null)
            {
                tape.AccumulateGemm(x, du, false, lora.A.Value, false, 1f);
                return;
            }
            tape.AccumulateGrad(x, dst =>
            {
                ops.Gemm(du, false, lora.A.Value, false, 1f, 0f, dst);
                ApplyMask(ops, dst, mask);
            });
        });
    }

    /// <summary>u = x·Aᵀ [T, r] (overwritten), then y += s · u·Bᵀ.</summary>
    private static void AddLora(IOps ops, LoraAdapter lora, Tensor x, Tensor u, Tensor y)
    {
        ops.Gemm(x, false, lora.A.Value, true, 1f, 0f, u);
        ops.Gemm(u, false, lora.B.Value, true, lora.Scaling, 1f, y);
    }

    // Inverted dropout: keep with probability 1 − p and scale the kept values by 1 / (1 − p).
    private static float[] DropoutMask(int count, float p, Xoshiro256StarStar rng)
    {
        var mask = new float[count];
        float keep = 1f / (1f - p);
        for (int i = 0; i < count; i++) mask[i] = rng.NextSingle() < p ? 0f : keep;
        return mask;
    }

    private static Tensor Masked(Tape tape, Tensor x, float[] mask)
    {
        var xd = tape.NewActivation([.. x.Shape.Dims]);
        tape.Ops.Copy(x, xd);
        ApplyMask(tape.Ops, xd, mask);
        return xd;
    }

    private static void ApplyMask(IOps ops, Tensor t, float[] mask)
    {
        var host = new float[mask.Length];
        ops.Download(t, host);
        for (int i = 0; i < host.Length; i++) host[i] *= mask[i];
        using var masked = ops.Upload(host, t.Shape, t.DType);
        ops.Copy(masked, t);
    }
}
