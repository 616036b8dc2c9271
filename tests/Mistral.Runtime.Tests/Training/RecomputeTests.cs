using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Policies;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// Activation recompute (<see cref="TrainingPass.Recompute"/>) changes where the block activations come from, never
/// what they are: the loss, every per-token CE and every gradient must be bit for bit those of the run that keeps
/// them, on the CPU reference and on CudaOps over the emulated device (fp32), with and without LoRA dropout.
/// </summary>
public sealed class RecomputeTests
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("emu")]
    public void ForwardBackward_TinyMistralRecomputed_LossAndEveryGradientBitIdentical(string device)
    {
        using var f = new LoraFixture(device);
        using var recomputed = new TrainingModel(f.Ops, f.BaseModel, new LoraPolicy(f.Ops, f.BaseModel, f.Adapters, trainNorms: true, 0, Xoshiro256StarStar.ForStream(0, 0)))
        {
            Recompute = true,
        };
        AssertSameSteps(f.Ops, f.Model, recomputed, f.Batch, steps: 1);
    }

    /// <summary>Two steps with dropout: the recompute replays the first forward's masks, and the RNG moves on as without it.</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("emu")]
    public void ForwardBackward_TinyMistralRecomputedWithLoraDropout_SameMasksAndGradients(string device)
    {
        using var f = new LoraFixture(device);
        using var kept = new TrainingModel(f.Ops, f.BaseModel, new LoraPolicy(f.Ops, f.BaseModel, f.Adapters, trainNorms: true, 0.25f, Xoshiro256StarStar.ForStream(7, 1)));
        using var recomputed = new TrainingModel(f.Ops, f.BaseModel, new LoraPolicy(f.Ops, f.BaseModel, f.Adapters, trainNorms: true, 0.25f, Xoshiro256StarStar.ForStream(7, 1)))
        {
            Recompute = true,
        };
        AssertSameSteps(f.Ops, kept, recomputed, f.Batch, steps: 2);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("emu")]
    public void ForwardBackward_TinyGpt2Recomputed_LossAndEveryGradientBitIdentical(string device)
    {
        using var g = new Gpt2LoraFixture(device);
        using var kept = g.TrainingModel(recompute: false, dropout: 0.1f);
        using var recomputed = g.TrainingModel(recompute: true, dropout: 0.1f);
        AssertSameSteps(g.Ops, kept, recomputed, g.Batch, steps: 2);
    }

    /// <summary>Full-parameter training (every weight, the tied wte receiving the head's and the embedding's gradient).</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("emu")]
    public void ForwardBackward_TinyGpt2FullParametersRecomputed_LossAndEveryGradientBitIdentical(string device)
    {
        using var g = new Gpt2LoraFixture(device);
        using var kept = TrainingModel.Full(g.Ops, g.BaseModel, g.Weights);
        using var recomputed = new TrainingModel(g.Ops, g.BaseModel, new FullParameterPolicy(g.Ops, g.BaseModel, g.Weights)) { Recompute = true };
        AssertSameSteps(g.Ops, kept, recomputed, g.Batch, steps: 1);
    }

    /// <summary>Runs both models step by step (they share the adapters, so one after the other) and compares the bits.</summary>
    private static void AssertSameSteps(IOps ops, TrainingModel kept, TrainingModel recomputed, TrainBatch batch, int steps)
    {
        for (int step = 0; step < steps; step++)
        {
            var expected = Step(ops, kept, batch);
            var actual = Step(ops, recomputed, batch);
            Assert.Equal(expected.Loss, actual.Loss);
            Assert.Equal(Bits(expected.Ce), Bits(actual.Ce));
            Assert.Equal(kept.Parameters.Select(p => p.Name), recomputed.Parameters.Select(p => p.Name));
            for (int i = 0; i < expected.Grads.Length; i++)
            {
                Assert.True(expected.Grads[i].Any(v => v != 0), $"{kept.Parameters[i].Name}: a zero gradient proves nothing");
                Assert.True(Bits(expected.Grads[i]).SequenceEqual(Bits(actual.Grads[i])),
                    $"step {step}: the gradient of {kept.Parameters[i].Name} differs under recompute");
            }
        }
    }

    private static (double Loss, float[] Ce, float[][] Grads) Step(IOps ops, TrainingModel model, TrainBatch batch)
    {
        var ce = new float[batch.TokenCount];
        model.ZeroGrads();
        double loss = model.ForwardBackward(batch, batch.WeightSum, ce);
        return (loss, ce, [.. model.Parameters.Select(p => Download(ops, p.Grad))]);
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    private static float[] Download(IOps ops, Tensor t)
    {
        var host = new float[t.ElementCount];
        ops.Download(t, host);
        return host;
    }
}
