using Mistral.Kernels.Ops;
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

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// The fixture's lora_train case (index.json) on a device ("cpu": the reference ops; "emu": CudaOps over the emulated
/// device, every training kernel of kernels/cu), in fp32: the tiny model, adapters from
/// lora/init.safetensors (rank 4, scaling 2, all seven targets), every norm trained, and the batch of
/// lora/batch.safetensors (2 rows of 23 inputs, each row its own sequence).
/// </summary>
public sealed class LoraFixture : IDisposable
{
    public const int Rank = 4;
    public const float Scaling = 2f;

    public LoraFixture(string device = "cpu")
    {
        Ops = TestDevices.Fp32Ops(device);
        Directory = ModelDirectory.Open(Fixtures.TinyNative);
        Weights = ModelWeights.Load(Directory, Ops, DType.F32);
        var lora = new LoraConfig(Rank, 0, Scaling, LoraConfig.AllTargets, Path.Combine(Fixtures.TinyLora, "init.safetensors"), TrainNorms: true);
        BaseModel = ModelFamilies.Create(Ops, Weights);
        Adapters = LoraAdapters.Create(Ops, BaseModel, lora, Xoshiro256StarStar.ForStream(0, 0));
        Model = TrainingModel.Lora(Ops, BaseModel, Adapters, trainNorms: true, dropout: 0, Xoshiro256StarStar.ForStream(0, 0));
        Batch = LoadBatch();
    }

    public IOps Ops { get; }
    public ModelDirectory Directory { get; }
    public ModelWeights Weights { get; }
    public ICausalLm BaseModel { get; }
    public LoraAdapters Adapters { get; }
    public TrainingModel Model { get; }
    public TrainBatch Batch { get; }

    public static IReadOnlyDictionary<string, HostTensor> Reference(string file) =>
        SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyLora, file));

    private static TrainBatch LoadBatch()
    {
        var b = Reference("batch.safetensors");
        var inputs = b["input_ids"];
        int rows = inputs.Shape[0], cols = inputs.Shape[1];
        return new TrainBatch(inputs.ToInt32(), b["target_ids"].ToInt32(), b["target_weight"].ToFloat32(),
            AttentionBatch.FromLengths(Enumerable.Repeat(cols, rows).ToArray()));
    }

    public float[] Download(Tensor t) => Ops.DownloadFloats(t);

    public void Dispose()
    {
        Model.Dispose();
        Adapters.Dispose();
        BaseModel.Dispose();
        Weights.Dispose();
        Directory.Dispose();
        Ops.Dispose();
    }
}
