using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// Activation recompute (<see cref="TrainingPass.Recompute"/>) changes where the block activations come from, never
/// what they are: the loss, every per-token CE and every gradient must be bit for bit those of the run that keeps
/// them, on the CPU reference and on CudaOps over the emulated device (fp32), with and without LoRA dropout.
/// </summary>
public sealed class RecomputeTests
{
    public static readonly IReadOnlyList<string> Gpt2Targets = ["q", "k", "v", "c_proj", "c_fc", "mlp.c_proj"];

    [Theory]
    [InlineData("cpu")]
    [InlineData("emu")]
    public void ForwardBackward_TinyMistralRecomputed_LossAndEveryGradientBitIdentical(string device)
    {
        using var f = new LoraFixture(device);
        using var recomputed = new LoraTrainingModel(f.Ops, f.BaseModel, f.Adapters, trainNorms: true, 0, Xoshiro256StarStar.ForStream(0, 0))
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
        using var kept = new LoraTrainingModel(f.Ops, f.BaseModel, f.Adapters, trainNorms: true, 0.25f, Xoshiro256StarStar.ForStream(7, 1));
        using var recomputed = new LoraTrainingModel(f.Ops, f.BaseModel, f.Adapters, trainNorms: true, 0.25f, Xoshiro256StarStar.ForStream(7, 1))
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
        using var g = new Gpt2LoraSetup(device);
        using var kept = g.TrainingModel(recompute: false, dropout: 0.1f);
        using var recomputed = g.TrainingModel(recompute: true, dropout: 0.1f);
        AssertSameSteps(g.Ops, kept, recomputed, g.Batch, steps: 2);
    }

    /// <summary>Runs both models step by step (they share the adapters, so one after the other) and compares the bits.</summary>
    private static void AssertSameSteps(IOps ops, LoraTrainingModel kept, LoraTrainingModel recomputed, TrainBatch batch, int steps)
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

    private static (double Loss, float[] Ce, float[][] Grads) Step(IOps ops, LoraTrainingModel model, TrainBatch batch)
    {
        var ce = new float[batch.TokenCount];
        model.ZeroGrads();
        double loss = model.ForwardBackward(batch, batch.WeightSum, ce);
        return (loss, ce, [.. model.Parameters.Select(p => Download(ops, p.Grad))]);
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    internal static float[] Download(IOps ops, Tensor t)
    {
        var host = new float[t.ElementCount];
        ops.Download(t, host);
        return host;
    }

    /// <summary>
    /// The tiny GPT-2 fixture with rank-4 adapters on every projection and trained LayerNorms, B drawn at random (B = 0,
    /// the usual start, would make every A gradient zero), and two packed sequences of 7 and 9 tokens, some targets masked.
    /// </summary>
    internal sealed class Gpt2LoraSetup : IDisposable
    {
        public const int Rank = 4;

        public Gpt2LoraSetup(string device)
        {
            Ops = device == "cpu" ? new CpuOps() : new CudaOps(TestDevices.Emulated(), DType.F32, ownsDevice: true);
            Directory = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
            Weights = ModelWeights.Load(Directory, Ops, DType.F32);
            BaseModel = ModelFamilies.Create(Ops, Weights);
            Adapters = LoraAdapters.Create(Ops, BaseModel, new LoraConfig(Rank, 0, 2.0, Gpt2Targets, null, TrainNorms: true),
                Xoshiro256StarStar.ForStream(3, 0));
            var rnd = new CaseRandom(5);
            foreach (var adapter in Adapters.All)
            {
                using var b = Ops.Upload(rnd.Uniform((int)adapter.B.Value.ElementCount, -0.5f, 0.5f), adapter.B.Value.Shape, DType.F32);
                Ops.Copy(b, adapter.B.Value);
            }
            int[] lengths = [7, 9];
            int T = lengths.Sum(), V = BaseModel.Config.VocabSize;
            Batch = new TrainBatch(rnd.Ints(T, V), rnd.Ints(T, V), [.. rnd.Uniform(T, 0, 1).Select(u => u < 0.25f ? 0f : 1f)],
                AttentionBatch.FromLengths(lengths));
        }

        public IOps Ops { get; }
        public ModelDirectory Directory { get; }
        public ModelWeights Weights { get; }
        public ICausalLm BaseModel { get; }
        public LoraAdapters Adapters { get; }
        public TrainBatch Batch { get; }

        public LoraTrainingModel TrainingModel(bool recompute, float dropout) =>
            new(Ops, BaseModel, Adapters, trainNorms: true, dropout, Xoshiro256StarStar.ForStream(9, 2)) { Recompute = recompute };

        public void Dispose()
        {
            Adapters.Dispose();
            BaseModel.Dispose();
            Weights.Dispose();
            Directory.Dispose();
            Ops.Dispose();
        }
    }
}
