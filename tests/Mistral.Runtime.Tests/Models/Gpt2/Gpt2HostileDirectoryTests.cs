using System.Text.Json.Nodes;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Tests.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Models.Gpt2;

/// <summary>
/// The load-time checks every family shares (non-finite weights, a config far beyond its files, a tokenizer larger
/// than the embedding) on GPT-2 directories, which reach them through ModelDirectory like Mistral's do.
/// </summary>
public sealed class Gpt2HostileDirectoryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Load_NanInAConvOneDWeight_IsRefusedNamingTheStoredTensor_UnlessAllowed()
    {
        WriteCopy(tensors => tensors.Select(t => t.Name == "transformer.h.1.mlp.c_fc.weight" ? HostileModelDirectoryTests.WithValue(t, 5, float.NaN) : t));
        using var ops = new CpuOps();
        var e = Assert.Throws<CheckpointFormatException>(() => LoadedModel.Load(_dir.Path, ops));
        Assert.Equal(_dir.File("model.safetensors"), e.FilePath);
        Assert.Contains("'transformer.h.1.mlp.c_fc.weight'", e.Problem);
        Assert.Contains(" holds NaN at element ", e.Problem);
        Assert.EndsWith("a model with non-finite weights writes garbage (--allow-nonfinite loads it anyway)", e.Problem);

        using var allowed = LoadedModel.Load(_dir.Path, ops, options: new ModelLoadOptions(AllowNonFinite: true));
        Assert.Equal(2, allowed.Config.LayerCount);
    }

    [Fact]
    public void Open_ConfigDeclaringABillionLayers_IsRefusedBeforeReadingTheWeights()
    {
        WriteCopy(tensors => tensors, config => config["n_layer"] = 1_000_000_000);
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal(_dir.File("config.json"), e.FilePath);
        Assert.EndsWith("the config does not describe these weights", e.Problem);
    }

    [Fact]
    public void Load_TokenizerLargerThanTheEmbedding_IsRefusedNamingBothSizes()
    {
        // 50257 ids in vocab.json against an embedding cut to 50000 rows (and a config that says so).
        WriteCopy(tensors => tensors.Select(t => t.Name == "transformer.wte.weight" ? FirstRows(t, 50000) : t), config => config["vocab_size"] = 50000);
        using var ops = new CpuOps();
        var e = Assert.Throws<CheckpointFormatException>(() => LoadedModel.Load(_dir.Path, ops));
        Assert.Contains("the tokenizer has 50257 ids but the model's embedding (config.json vocab_size, model.safetensors) has only 50000 rows", e.Problem);
    }

    /// <summary>The tiny GPT-2 fixture with its tensors and config.json edited, plus its tokenizer files.</summary>
    private void WriteCopy(Func<IEnumerable<HostTensor>, IEnumerable<HostTensor>> tensors, Action<JsonObject>? config = null)
    {
        TinyGpt2Files.NewModelDir(_dir, config);
        SafeTensorsWriter.Write(_dir.File("model.safetensors"), tensors(TinyGpt2Files.Stored()).ToList());
        foreach (var name in new[] { "vocab.json", "merges.txt" })
            File.Copy(Path.Combine(Fixtures.TinyGpt2Hf, name), _dir.File(name));
    }

    private static HostTensor FirstRows(HostTensor t, int rows)
    {
        int width = t.Shape[1];
        return HostTensor.FromFloat32(t.Name, t.ToFloat32()[..(rows * width)], new Shape(rows, width), t.DType);
    }
}
