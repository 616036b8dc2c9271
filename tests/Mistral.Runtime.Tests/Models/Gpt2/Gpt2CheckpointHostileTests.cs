using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Tests.Model;
using Xunit;

namespace Mistral.Runtime.Tests.Models.Gpt2;

/// <summary>GPT-2 files that do not match their config are refused on open with one line naming the tensor and the file.</summary>
public sealed class Gpt2CheckpointHostileTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly IReadOnlyList<HostTensor> _stored = TinyGpt2Files.Stored();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Open_ConvOneDWeightStoredAsLinear_IsRefusedNamingBothLayouts()
    {
        var weights = Replace("transformer.h.0.mlp.c_fc.weight", t => Transposed(t));   // [64, 16] instead of [16, 64]
        var e = OpenFails(weights);
        Assert.Equal(_dir.File("model.safetensors"), e.FilePath);
        Assert.Equal("tensor 'transformer.h.0.mlp.c_fc.weight' has shape [64, 16], expected [16, 64] (Conv1D [in, out]) from the config; "
            + "it is stored [out, in] (nn.Linear), but GPT-2 checkpoints store Conv1D weights [in, out]", e.Problem);
    }

    [Fact]
    public void Open_ConvOneDWeightOfWrongSize_IsRefusedWithItsShape()
    {
        var weights = Replace("transformer.h.1.attn.c_attn.weight", t => HostTensor.FromFloat32(t.Name, new float[16 * 32], new Shape(16, 32)));
        var e = OpenFails(weights);
        Assert.Equal("tensor 'transformer.h.1.attn.c_attn.weight' has shape [16, 32], expected [16, 48] (Conv1D [in, out]) from the config", e.Problem);
    }

    [Fact]
    public void Open_BiasOfWrongSize_IsRefused()
    {
        var weights = Replace("transformer.ln_f.bias", t => HostTensor.FromFloat32(t.Name, new float[17], new Shape(17)));
        Assert.Equal("tensor 'transformer.ln_f.bias' has shape [17], expected [16] from the config", OpenFails(weights).Problem);
    }

    [Fact]
    public void Open_MissingTensor_IsNamedWithBothSpellings()
    {
        var e = OpenFails(_stored.Where(t => t.Name != "transformer.h.1.ln_2.bias").ToList());
        Assert.Equal("tensor 'h.1.ln_2.bias' (or 'transformer.h.1.ln_2.bias') not found", e.Problem);
        Assert.Equal(_dir.File("model.safetensors"), e.FilePath);
    }

    [Fact]
    public void Open_UntiedConfigWithoutLmHead_SaysTheHeadMustBeStored()
    {
        TinyGpt2Files.NewModelDir(_dir, c => c["tie_word_embeddings"] = false);
        var e = OpenFails(_stored, writeConfig: false);
        Assert.Equal("tensor 'lm_head.weight' not found; the config has tie_word_embeddings false, so the head must be stored", e.Problem);
    }

    [Fact]
    public void Open_TiedConfigWithADifferentLmHead_IsRefused()
    {
        var wte = _stored.Single(t => t.Name == "transformer.wte.weight");
        var other = wte.ToFloat32();
        other[12345] += 1f;
        var e = OpenFails([.. _stored, HostTensor.FromFloat32("lm_head.weight", other, wte.Shape)]);
        Assert.Equal("tensor 'lm_head.weight' differs from 'transformer.wte.weight', but the config has tie_word_embeddings true (the head is wte); "
            + "set tie_word_embeddings to false to use the stored head", e.Problem);
    }

    [Fact]
    public void Open_SameTensorWithAndWithoutPrefix_IsRefusedAsStoredTwice()
    {
        var e = OpenFails([.. _stored, TinyGpt2Files.Renamed(_stored.Single(t => t.Name == "transformer.wpe.weight"), "wpe.weight")]);
        Assert.Contains("tensor 'wpe.weight' is stored twice: as 'transformer.wpe.weight' in ", e.Problem);
    }

    [Fact]
    public void Open_SameTensorInTwoShards_IsRefusedNamingBothFiles()
    {
        TinyGpt2Files.NewModelDir(_dir);
        TinyGpt2Files.WriteSharded(_dir.Path, _stored, shards: 2, safeTensors: true);
        // The second shard also holds the first shard's first tensor (the index lists it under the first): two copies.
        var copied = _stored[0];
        string first = _dir.File("model-00001-of-00002.safetensors"), second = _dir.File("model-00002-of-00002.safetensors");
        SafeTensorsWriter.Write(second, [.. SafeTensorsFile.ReadAll(second).Values, copied]);
        var e = Assert.Throws<CheckpointFormatException>(() => Gpt2Checkpoint.Open(_dir.Path, Config()));
        Assert.Equal(second, e.FilePath);
        Assert.Equal($"tensor '{copied.Name["transformer.".Length..]}' is stored twice: as '{copied.Name}' in {first} and as '{copied.Name}' in {second}", e.Problem);
    }

    [Fact]
    public void Open_IndexListingATensorTwice_IsRefused()
    {
        TinyGpt2Files.NewModelDir(_dir);
        TinyGpt2Files.WriteSharded(_dir.Path, _stored, shards: 2, safeTensors: true);
        string index = _dir.File(Gpt2Checkpoint.SafeTensorsIndexFileName);
        string json = File.ReadAllText(index);
        File.WriteAllText(index, json.Replace("\"weight_map\":{", "\"weight_map\":{\"transformer.ln_f.bias\":\"model-00001-of-00002.safetensors\","));
        var e = Assert.Throws<CheckpointFormatException>(() => Gpt2Checkpoint.Open(_dir.Path, Config()));
        Assert.Equal(index, e.FilePath);
        Assert.Equal("key 'weight_map.transformer.ln_f.bias' is given twice; which one counts would be an accident, so neither does", e.Problem);
    }

    [Fact]
    public void Open_IndexPointingAtTheWrongShard_IsRefused()
    {
        TinyGpt2Files.NewModelDir(_dir);
        TinyGpt2Files.WriteSharded(_dir.Path, _stored, shards: 2, safeTensors: false);
        string index = _dir.File(Gpt2Checkpoint.PytorchIndexFileName);
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"transformer.ln_f.bias\":\"pytorch_model-00002-of-00002.bin\"", "\"transformer.ln_f.bias\":\"pytorch_model-00001-of-00002.bin\""));
        var e = Assert.Throws<CheckpointFormatException>(() => Gpt2Checkpoint.Open(_dir.Path, Config()));
        Assert.Equal(_dir.File("pytorch_model-00001-of-00002.bin"), e.FilePath);
        Assert.Equal("pytorch_model.bin.index.json places tensor 'transformer.ln_f.bias' in this file, but the file does not hold it", e.Problem);
    }

    [Fact]
    public void Open_BlockBeyondNLayer_IsRefusedNamingNLayer()
    {
        var extra = TinyGpt2Files.Renamed(_stored.Single(t => t.Name == "transformer.h.1.ln_1.weight"), "transformer.h.2.ln_1.weight");
        Assert.Equal("tensor 'transformer.h.2.ln_1.weight' belongs to block 2, but the config has n_layer 2 (blocks 0 to 1)", OpenFails([.. _stored, extra]).Problem);
    }

    [Fact]
    public void Open_UnknownTensorInABlock_IsRefused()
    {
        var extra = TinyGpt2Files.Renamed(_stored.Single(t => t.Name == "transformer.h.0.ln_1.weight"), "transformer.h.0.ln_cross_attn.weight");
        Assert.Equal("tensor 'transformer.h.0.ln_cross_attn.weight' is not a parameter of a GPT-2 block (expected ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj)",
            OpenFails([.. _stored, extra]).Problem);
    }

    [Fact]
    public void Open_IntegerWeights_AreRefusedNamingTheDType()
    {
        var weights = Replace("transformer.wpe.weight", t => HostTensor.FromInt32(t.Name, new int[64 * 16], t.Shape));
        Assert.Equal("tensor 'transformer.wpe.weight' has dtype I32, expected a float dtype (F32, BF16, F16)", OpenFails(weights).Problem);
    }

    [Fact]
    public void Open_FolderWithoutWeights_NamesTheFilesItLookedFor()
    {
        TinyGpt2Files.NewModelDir(_dir);
        var e = Assert.Throws<CheckpointFormatException>(() => Gpt2Checkpoint.Open(_dir.Path, Config()));
        Assert.Equal("no GPT-2 weights in this folder: expected model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json", e.Problem);
    }

    private Gpt2Config Config() => Gpt2ConfigReader.FromConfigJson(_dir.File("config.json"));

    private IReadOnlyList<HostTensor> Replace(string name, Func<HostTensor, HostTensor> change) =>
        _stored.Select(t => t.Name == name ? change(t) : t).ToList();

    private static HostTensor Transposed(HostTensor t)
    {
        var v = t.ToFloat32();
        int rows = t.Shape[0], cols = t.Shape[1];
        var result = new float[v.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[c * rows + r] = v[r * cols + c];
        return HostTensor.FromFloat32(t.Name, result, new Shape(cols, rows));
    }

    private CheckpointFormatException OpenFails(IReadOnlyList<HostTensor> tensors, bool writeConfig = true)
    {
        if (writeConfig) TinyGpt2Files.NewModelDir(_dir);
        SafeTensorsWriter.Write(_dir.File("model.safetensors"), tensors);
        return Assert.Throws<CheckpointFormatException>(() => Gpt2Checkpoint.Open(_dir.Path, Config()));
    }
}
