using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;
using Mistral.Runtime.Training.Policies;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// The tape's bytes over one LoRA step, counted by hand from the shapes (every tensor here is 4 bytes an element: fp32
/// activations and gradients, I32 ids and positions). <see cref="Tape.AllocatedBytes"/> is what a tape that frees
/// nothing until Dispose (the tape before gradients were freed once consumed) holds at its peak; <see cref="Tape.PeakBytes"/>
/// is what this one reaches. Without recompute the peak is the moment the backward starts: every forward activation,
/// d(logits), and the first gradient born (d(norm_out)); from there each backward frees at least what it allocates.
/// With recompute the forward keeps one [T, D] per block instead of the block's activations.
/// </summary>
public sealed class TapeMemoryTests
{
    private const long Bytes = 4;

    /// <summary>tiny-mistral, the lora_train batch: T = 46 (2 rows of 23), D = 64, q/att width 64, k/v width 32, F = 176, r = 4, H = 4, V = 32000, 2 layers.</summary>
    private const long T = 46, D = 64, Kv = 32, F = 176, R = 4, H = 4, V = 32000, L = 2;

    // One block's activations: x and proj of both sub-blocks, q, att and the two residual sums (8 · T·D); k and v;
    // gate, up and hidden; the seven LoRA u = x·Aᵀ; two RMSNorm rstd; the attention's log-sum-exp [H, T].
    private const long MistralBlock = 8 * T * D + 2 * T * Kv + 3 * T * F + 7 * T * R + 2 * T + H * T;
    // Outside the blocks: ids and positions, the embedding rows h, norm_out and its rstd, logits, per-token CE, d(logits).
    private const long MistralOutside = 2 * T + T * D + T * D + T + T * V + T + T * V;
    // Every activation a gradient reaches: a block's [T, D] eight, k, v, gate, up, hidden; the embedding rows; norm_out.
    private const long MistralGrads = L * (8 * T * D + 2 * T * Kv + 3 * T * F) + T * D + T * D;

    [Fact]
    public void PeakBytes_TinyMistralLoraStep_GradientsFreedOnceConsumed()
    {
        using var f = new LoraFixture();
        var step = Step(f.Ops, f.BaseModel, f.Adapters, ((LoraPolicy)f.Model.Policy).Norms, f.Batch, recompute: false);

        Assert.Equal(Bytes * (MistralOutside + L * MistralBlock + MistralGrads), step.Allocated);   // 12 648 896
        Assert.Equal(Bytes * (MistralOutside + L * MistralBlock + T * D), step.Peak);              // 12 230 848
        Assert.Equal(Bytes * T * D, step.LiveAfterBackward); // only the leaf's gradient: d(embedding rows)
    }

    [Fact]
    public void PeakBytes_TinyMistralLoraStepRecomputed_KeepsOneRowBlockPerLayer()
    {
        using var f = new LoraFixture();
        var step = Step(f.Ops, f.BaseModel, f.Adapters, ((LoraPolicy)f.Model.Policy).Norms, f.Batch, recompute: true);

        // Each block's forward twice (the dropped first run and the recompute), its output copy on the tape, and the
        // child tape's d(block input) before it is handed over.
        Assert.Equal(Bytes * (MistralOutside + L * T * D + 2 * L * MistralBlock + MistralGrads + L * T * D), step.Allocated); // 13 114 784
        Assert.Equal(Bytes * (MistralOutside + L * T * D + T * D), step.Peak);                                               // 11 835 616
        Assert.True(step.Peak < Bytes * (MistralOutside + L * MistralBlock + T * D));
        Assert.Equal(Bytes * T * D, step.LiveAfterBackward);
    }

    /// <summary>tiny-gpt2, two sequences of 7 and 9: T = 16, C = 16, H = 2, F = 64, r = 4, V = 50257, 2 layers.</summary>
    private const long GT = 16, GC = 16, GH = 2, GF = 64, GR = 4, GV = 50257, GL = 2;

    // x and proj of both sub-blocks, q, k, v, att, the two residual sums (10 · T·C); fc and hidden; six LoRA u; mean
    // and rstd of both LayerNorms; log-sum-exp.
    private const long Gpt2Block = 10 * GT * GC + 2 * GT * GF + 6 * GT * GR + 4 * GT + GH * GT;
    // ids, positions; wte rows, wpe rows and their sum; ln_f out, mean, rstd; logits, per-token CE, d(logits).
    private const long Gpt2Outside = 2 * GT + 3 * GT * GC + GT * GC + 2 * GT + GT * GV + GT + GT * GV;
    // a block's ten [T, C] and fc, hidden; the embedding sum and both embedding rows (leaves); ln_f out.
    private const long Gpt2Grads = GL * (10 * GT * GC + 2 * GT * GF) + 3 * GT * GC + GT * GC;

    [Fact]
    public void PeakBytes_TinyGpt2LoraStep_GradientsFreedOnceConsumed()
    {
        using var g = new Gpt2LoraFixture("cpu");
        using var lm = g.TrainingModel(recompute: false, dropout: 0);
        var step = Step(g.Ops, g.BaseModel, g.Adapters, ((LoraPolicy)lm.Policy).Norms, g.Batch, recompute: false);

        Assert.Equal(Bytes * (Gpt2Outside + GL * Gpt2Block + Gpt2Grads), step.Allocated); // 6 518 976
        Assert.Equal(Bytes * (Gpt2Outside + GL * Gpt2Block + GT * GC), step.Peak);       // 6 479 040
        Assert.Equal(Bytes * 2 * GT * GC, step.LiveAfterBackward); // d(wte rows), d(wpe rows)
    }

    [Fact]
    public void PeakBytes_TinyGpt2LoraStepRecomputed_KeepsOneRowBlockPerLayer()
    {
        using var g = new Gpt2LoraFixture("cpu");
        using var lm = g.TrainingModel(recompute: false, dropout: 0);
        var step = Step(g.Ops, g.BaseModel, g.Adapters, ((LoraPolicy)lm.Policy).Norms, g.Batch, recompute: true);

        Assert.Equal(Bytes * (Gpt2Outside + GL * GT * GC + 2 * GL * Gpt2Block + Gpt2Grads + GL * GT * GC), step.Allocated); // 6 563 776
        Assert.Equal(Bytes * (Gpt2Outside + GL * GT * GC + GT * GC), step.Peak);                                             // 6 440 384
        Assert.Equal(Bytes * 2 * GT * GC, step.LiveAfterBackward);
    }

    /// <summary>One micro-batch's forward, loss and backward (as TrainingModel.ForwardBackward) on a tape the test can read.</summary>
    private static (long Allocated, long Peak, long LiveAfterBackward) Step(IOps ops, ICausalLm model, LoraAdapters adapters,
        IEnumerable<TrainableParameter> norms, TrainBatch batch, bool recompute)
    {
        int tokens = batch.TokenCount;
        using var tape = new Tape(ops);
        var pass = new TrainingPass(tape, adapters, norms.ToDictionary(n => n.Name)) { Recompute = recompute };
        var logits = model.Forward(batch.Inputs, batch.Attention, pass);
        using var targets = ops.Upload(batch.Targets, new Shape(tokens));
        using var weights = ops.Upload(batch.Weights, new Shape(tokens), DType.F32);
        ops.CrossEntropyForward(logits, targets, weights, tape.New(DType.F32, tokens));
        var dLogits = tape.NewActivation([.. logits.Shape.Dims]);
        ops.CrossEntropyBackward(logits, targets, weights, (float)(1.0 / batch.WeightSum), dLogits);
        tape.Backward(logits, dLogits);
        return (tape.AllocatedBytes, tape.PeakBytes, tape.LiveBytes);
    }
}
