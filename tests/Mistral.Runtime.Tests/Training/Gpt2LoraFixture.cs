using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Lora;
using Mistral.Runtime.Training.Policies;
using Mistral.Testing;
using Mistral.Testing.Devices;

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// The tiny GPT-2 fixture with rank-4 adapters on every projection and trained LayerNorms, B drawn at random (B = 0,
/// the usual start, would make every A gradient zero), and two packed sequences of 7 and 9 tokens, some targets masked.
/// </summary>
public sealed class Gpt2LoraFixture : IDisposable
{
    public const int Rank = 4;
    public static readonly IReadOnlyList<string> Targets = ["q", "k", "v", "c_proj", "c_fc", "mlp.c_proj"];

    public Gpt2LoraFixture(string device)
    {
        Ops = TestDevices.Fp32Ops(device);
        Directory = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
        Weights = ModelWeights.Load(Directory, Ops, DType.F32);
        BaseModel = ModelFamilies.Create(Ops, Weights);
        Adapters = LoraAdapters.Create(Ops, BaseModel, new LoraConfig(Rank, 0, 2.0, Targets, null, TrainNorms: true),
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

    public TrainingModel TrainingModel(bool recompute, float dropout) =>
        new(Ops, BaseModel, new LoraPolicy(Ops, BaseModel, Adapters, trainNorms: true, dropout, Xoshiro256StarStar.ForStream(9, 2))) { Recompute = recompute };

    public void Dispose()
    {
        Adapters.Dispose();
        BaseModel.Dispose();
        Weights.Dispose();
        Directory.Dispose();
        Ops.Dispose();
    }
}
