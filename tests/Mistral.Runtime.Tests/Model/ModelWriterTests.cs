using System.Security.Cryptography;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;
using Mistral.Runtime.Tests.Models.Gpt2;

namespace Mistral.Runtime.Tests.Model;

public sealed class ModelWriterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Layouts => ["native", "native-pth", "hf"];

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Writing_a_model_back_keeps_layout_dtype_tokenizer_and_every_tensor(string layout)
    {
        using var source = ModelDirectory.Open(Path.Combine(Fixtures.TinyMistral, layout));
        var destination = _dir.File("out");
        ModelWriter.Write(source, destination, source.Read);

        using var written = ModelDirectory.Open(destination);
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        Assert.Equal(source.Layout, written.Layout);
        Assert.Equal(source.StoredDType, written.StoredDType);
        Assert.Equal(source.Config, written.Config);
        Assert.True(File.ReadAllBytes(source.TokenizerPath!).AsSpan().SequenceEqual(File.ReadAllBytes(written.TokenizerPath!)));
        ModelDirectoryTests.AssertSameTensors(native, written);
        Assert.Empty(Directory.GetFiles(destination, "*.tmp"));
    }

    [Fact]
    public void Hf_write_restores_the_reference_files_permuted_rows_byte_for_byte()
    {
        // The reference's own HF file is the independent check of the native -> HF permutation.
        using var source = ModelDirectory.Open(Fixtures.TinyHf);
        ModelWriter.Write(source, _dir.Path, source.Read);
        var original = SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyHf, "model.safetensors"));
        var rewritten = SafeTensorsFile.ReadAll(_dir.File("model.safetensors"));
        Assert.Equal(original.Keys.Order(), rewritten.Keys.Order());
        foreach (var (name, tensor) in original)
            Assert.True(tensor.Bytes.SequenceEqual(rewritten[name].Bytes), $"'{name}' differs from the reference HF file");
        Assert.True(File.Exists(_dir.File("generation_config.json")));
        Assert.True(File.Exists(_dir.File("tokenizer.json")));
    }

    [Fact]
    public void Gpt2_hf_write_restores_the_transformers_file_byte_for_byte_and_its_logits()
    {
        // The engine holds c_attn as q, k, v [C, C] thirds and Conv1D weights as [out, in]; writing fuses and transposes
        // them back. The file transformers wrote is the independent check: same names, dtypes, shapes, bytes and header.
        using var source = ModelDirectory.Open(Fixtures.TinyGpt2Hf);
        Assert.Contains(Gpt2TensorNames.QkvWeight(0, 'q'), source.Checkpoint.Tensors.Keys);
        ModelWriter.Write(source, _dir.Path, source.Read);

        string original = Path.Combine(Fixtures.TinyGpt2Hf, "model.safetensors"), rewritten = _dir.File("model.safetensors");
        using (var a = SafeTensorsFile.Open(original))
        using (var b = SafeTensorsFile.Open(rewritten))
        {
            Assert.Equal(a.Names, b.Names);
            foreach (var name in a.Names)
            {
                Assert.Equal(a.Describe(name), b.Describe(name));
                Assert.True(a.Get(name).Bytes.SequenceEqual(b.Get(name).Bytes), $"'{name}' differs from the transformers file");
            }
        }
        Assert.Equal("fd4401bb6e857e73907e33a95e99d556d5f02d883c44e13314c8b68a5dcfad26", Sha256(rewritten));
        foreach (var file in (string[])["config.json", "generation_config.json", "vocab.json", "merges.txt"])
            Assert.Equal(Sha256(Path.Combine(Fixtures.TinyGpt2Hf, file)), Sha256(_dir.File(file)));
        double worst = Gpt2ModelTests.WorstReferenceLogitDifference(_dir.Path);
        Assert.True(worst <= Gpt2ModelTests.LogitsTolerance, $"worst logit difference {worst:E2}");
    }

    public static TheoryData<string> Gpt2Variants() => [.. TinyGpt2Files.Variants];

    [Theory]
    [MemberData(nameof(Gpt2Variants))]
    public void Gpt2_every_source_layout_written_back_keeps_dtype_sharding_and_every_tensor(string variant)
    {
        // torch .bin sources come back as safetensors (what transformers writes today), shards as as many shards.
        var (directory, dtype) = TinyGpt2Files.WriteVariant(_dir, TinyGpt2Files.Stored(), variant);
        using var source = ModelDirectory.Open(directory);
        var destination = _dir.File("out");
        ModelWriter.Write(source, destination, source.Read);

        using var written = ModelDirectory.Open(destination);
        Assert.Equal(source.Config, written.Config);
        Assert.Equal(dtype, written.StoredDType);
        Assert.Equal(source.WeightFiles.Count, written.WeightFiles.Count);
        Assert.All(written.WeightFiles, f => Assert.EndsWith(".safetensors", f));
        foreach (var (name, _) in source.Schema.Expected)
            Assert.True(source.Read(name).Bytes.SequenceEqual(written.Read(name).Bytes), $"{variant}: '{name}' differs after writing back");
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void Fp32_tensors_are_stored_in_the_source_dtype()
    {
        // bf16 -> fp32 -> bf16 is exact, so rounding merged fp32 weights of unchanged values gives the original bytes.
        using var source = ModelDirectory.Open(Fixtures.TinyNative);
        var destination = _dir.File("out");
        ModelWriter.Write(source, destination, name =>
        {
            var t = source.Read(name);
            return HostTensor.FromFloat32(name, t.ToFloat32(), t.Shape, DType.F32);
        });
        using var written = ModelDirectory.Open(destination);
        Assert.Equal(DType.BF16, written.StoredDType);
        ModelDirectoryTests.AssertSameTensors(source, written);
    }

    [Fact]
    public void Sharded_hf_is_written_sharded()
    {
        var shardedSource = _dir.File("sharded");
        Directory.CreateDirectory(shardedSource);
        ModelDirectoryTests.WriteShardedHfCopy(shardedSource);
        using var source = ModelDirectory.Open(shardedSource);
        var destination = _dir.File("out");
        ModelWriter.Write(source, destination, source.Read);

        using var written = ModelDirectory.Open(destination);
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        Assert.True(written.IsSharded);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], written.WeightFiles.Select(Path.GetFileName));
        ModelDirectoryTests.AssertSameTensors(native, written);
    }

    [Fact]
    public void Writing_over_the_source_is_refused()
    {
        using var source = ModelDirectory.Open(Fixtures.TinyNative);
        var e = Assert.Throws<ArgumentException>(() => ModelWriter.Write(source, Fixtures.TinyNative + "/", source.Read));
        Assert.Contains("is the source model directory", e.Message);
    }

    [Fact]
    public void A_tensor_of_the_wrong_shape_is_refused_and_no_weights_file_is_left()
    {
        using var source = ModelDirectory.Open(Fixtures.TinyNative);
        var destination = _dir.File("out");
        var e = Assert.Throws<ArgumentException>(() => ModelWriter.Write(source, destination, name =>
            name == MistralTensorNames.Norm ? HostTensor.FromFloat32(name, new float[63], new Shape(63), DType.BF16) : source.Read(name)));
        Assert.Contains("asked for 'norm.weight' [64] and got 'norm.weight' [63]", e.Message);
        Assert.Empty(Directory.GetFiles(destination));
    }
}
