using System.Text.Json;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Model;

public sealed class ModelDirectoryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Native_layout_is_detected_with_its_config_dtype_and_tokenizer()
    {
        using var model = ModelDirectory.Open(Fixtures.TinyNative);
        Assert.Equal(ModelLayout.NativeSafeTensors, model.Layout);
        Assert.False(model.IsSharded);
        Assert.Equal(DType.BF16, model.StoredDType);
        Assert.Equal(new MistralConfig(64, 2, 16, 176, 4, 2, 16, 1e-5f, 32000, 10000f), model.Config);
        Assert.Equal(Path.Combine(Fixtures.TinyNative, "tokenizer.model"), model.TokenizerPath);
        Assert.Equal(new FileInfo(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors")).Length, model.WeightBytes);
    }

    [Fact]
    public void Pth_and_hf_layouts_load_bit_identical_native_tensors()
    {
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        using var pth = ModelDirectory.Open(Fixtures.TinyNativePth);
        using var hf = ModelDirectory.Open(Fixtures.TinyHf);
        Assert.Equal(ModelLayout.NativePth, pth.Layout);
        Assert.Equal(ModelLayout.HuggingFace, hf.Layout);
        Assert.Equal(DType.BF16, pth.StoredDType);
        Assert.Equal(DType.BF16, hf.StoredDType);
        AssertSameTensors(native, pth);
        AssertSameTensors(native, hf);
    }

    [Fact]
    public void Hf_q_and_k_really_are_permuted_on_disk()
    {
        // Guards the test above: if the HF file held native rows, un-permuting would break equality, but make sure the
        // permutation is not the identity for this fixture, and that v (not permuted) is stored as is.
        using var hfFile = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyHf, "model.safetensors"));
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        Assert.False(hfFile["model.layers.0.self_attn.q_proj.weight"].Bytes.SequenceEqual(native.Read(MistralTensorNames.Wq(0)).Bytes));
        Assert.False(hfFile["model.layers.1.self_attn.k_proj.weight"].Bytes.SequenceEqual(native.Read(MistralTensorNames.Wk(1)).Bytes));
        Assert.True(hfFile["model.layers.0.self_attn.v_proj.weight"].Bytes.SequenceEqual(native.Read(MistralTensorNames.Wv(0)).Bytes));
    }

    [Fact]
    public void Config_from_params_json_equals_config_from_config_json()
    {
        var native = MistralConfigReader.FromParamsJson(Path.Combine(Fixtures.TinyNative, "params.json"));
        var hf = MistralConfigReader.FromHfConfigJson(Path.Combine(Fixtures.TinyHf, "config.json"));
        Assert.Equal(32768, hf.ContextLength);
        Assert.Equal(native, hf with { ContextLength = null });
    }

    [Fact]
    public void Sharded_hf_checkpoint_loads_the_same_tensors()
    {
        WriteShardedHfCopy(_dir.Path);
        using var sharded = ModelDirectory.Open(_dir.Path);
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        Assert.Equal(ModelLayout.HuggingFace, sharded.Layout);
        Assert.True(sharded.IsSharded);
        Assert.Equal(2, sharded.WeightFiles.Count);
        Assert.Null(sharded.TokenizerPath);
        AssertSameTensors(native, sharded);
    }

    [Fact]
    public void Tied_hf_embeddings_serve_as_the_output_matrix()
    {
        using (var single = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyHf, "model.safetensors")))
            SafeTensorsWriter.Write(_dir.File("model.safetensors"), single.Names.Where(n => n != "lm_head.weight").Select(single.Get));
        WriteJson("config.json", ReadJson(Path.Combine(Fixtures.TinyHf, "config.json"), c => c["tie_word_embeddings"] = true));

        using var tied = ModelDirectory.Open(_dir.Path);
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        Assert.True(tied.Config.TieWordEmbeddings);
        Assert.True(tied.Read(MistralTensorNames.Output).Bytes.SequenceEqual(native.Read(MistralTensorNames.TokEmbeddings).Bytes));
    }

    [Fact]
    public void Missing_directory_is_named()
    {
        var path = _dir.File("nope");
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(path));
        Assert.Equal($"{path}: model directory not found", e.Message);
    }

    [Fact]
    public void Folder_without_config_is_not_a_model_directory()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Contains("expected params.json (native layout) or config.json (Hugging Face layout)", e.Message);
    }

    [Fact]
    public void Config_without_weights_names_the_missing_files()
    {
        File.Copy(Path.Combine(Fixtures.TinyNative, "params.json"), _dir.File("params.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.StartsWith(_dir.Path, e.Message);
        Assert.Contains("expected consolidated.safetensors or consolidated.00.pth", e.Message);
    }

    [Fact]
    public void Shape_mismatch_names_the_tensor_its_shape_and_the_expected_one()
    {
        File.Copy(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors"), _dir.File("consolidated.safetensors"));
        WriteJson("params.json", ReadJson(Path.Combine(Fixtures.TinyNative, "params.json"), c => c["hidden_dim"] = 177));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{_dir.File("consolidated.safetensors")}: tensor 'layers.0.feed_forward.w1.weight' has shape [176, 64], expected [177, 64] from params.json", e.Message);
    }

    [Fact]
    public void Hf_shape_mismatch_names_the_hf_tensor()
    {
        File.Copy(Path.Combine(Fixtures.TinyHf, "model.safetensors"), _dir.File("model.safetensors"));
        WriteJson("config.json", ReadJson(Path.Combine(Fixtures.TinyHf, "config.json"), c => c["num_key_value_heads"] = 4));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Contains("tensor 'model.layers.0.self_attn.k_proj.weight' (native 'layers.0.attention.wk.weight') has shape [32, 64], expected [64, 64] from config.json", e.Message);
    }

    [Fact]
    public void Missing_tensor_is_named_with_its_file()
    {
        using (var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors")))
            SafeTensorsWriter.Write(_dir.File("consolidated.safetensors"), file.Names.Where(n => n != "norm.weight").Select(file.Get));
        File.Copy(Path.Combine(Fixtures.TinyNative, "params.json"), _dir.File("params.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{_dir.File("consolidated.safetensors")}: tensor 'norm.weight' not found", e.Message);
    }

    [Fact]
    public void Missing_hf_tensor_gives_both_names()
    {
        using (var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyHf, "model.safetensors")))
            SafeTensorsWriter.Write(_dir.File("model.safetensors"), file.Names.Where(n => n != "model.layers.1.mlp.up_proj.weight").Select(file.Get));
        File.Copy(Path.Combine(Fixtures.TinyHf, "config.json"), _dir.File("config.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{_dir.File("model.safetensors")}: tensor 'model.layers.1.mlp.up_proj.weight' (native 'layers.1.feed_forward.w3.weight') not found", e.Message);
    }

    [Theory]
    [InlineData("../model.safetensors")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public void Index_pointing_outside_the_folder_is_refused(string shard)
    {
        File.Copy(Path.Combine(Fixtures.TinyHf, "config.json"), _dir.File("config.json"));
        File.WriteAllText(_dir.File("model.safetensors.index.json"),
            JsonSerializer.Serialize(new { weight_map = new Dictionary<string, string> { ["model.norm.weight"] = shard } }));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Contains("model.safetensors.index.json", e.Message);
        Assert.Contains("not a plain file name in the model folder", e.Message);
    }

    [Fact]
    public void Missing_shard_is_named()
    {
        File.Copy(Path.Combine(Fixtures.TinyHf, "config.json"), _dir.File("config.json"));
        File.WriteAllText(_dir.File("model.safetensors.index.json"),
            JsonSerializer.Serialize(new { weight_map = new Dictionary<string, string> { ["model.norm.weight"] = "model-00001-of-00002.safetensors" } }));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{_dir.File("model-00001-of-00002.safetensors")}: shard listed in model.safetensors.index.json not found", e.Message);
    }

    [Fact]
    public void Truncated_weights_give_the_safetensors_error()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors"));
        File.WriteAllBytes(_dir.File("consolidated.safetensors"), bytes[..(bytes.Length / 2)]);
        File.Copy(Path.Combine(Fixtures.TinyNative, "params.json"), _dir.File("params.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.StartsWith(_dir.File("consolidated.safetensors") + ": tensor '", e.Message);
        Assert.Contains("run past the data area", e.Message);
    }

    /// <summary>The HF fixture re-cut into two shards plus model.safetensors.index.json, and its config (no tokenizer).</summary>
    internal static void WriteShardedHfCopy(string folder)
    {
        using (var single = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyHf, "model.safetensors")))
        {
            var names = single.Names.ToArray();
            var shards = new[] { names[..(names.Length / 2)], names[(names.Length / 2)..] };
            var weightMap = new Dictionary<string, string>();
            for (int s = 0; s < 2; s++)
            {
                string file = $"model-{s + 1:D5}-of-00002.safetensors";
                SafeTensorsWriter.Write(Path.Combine(folder, file), shards[s].Select(single.Get), new Dictionary<string, string> { ["format"] = "pt" });
                foreach (var n in shards[s]) weightMap[n] = file;
            }
            File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
                JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = weightMap }));
        }
        File.Copy(Path.Combine(Fixtures.TinyHf, "config.json"), Path.Combine(folder, "config.json"));
    }

    internal static void AssertSameTensors(ModelDirectory expected, ModelDirectory actual)
    {
        Assert.Equal((MistralConfig)expected.Config with { ContextLength = null, TieWordEmbeddings = false }, (MistralConfig)actual.Config with { ContextLength = null, TieWordEmbeddings = false });
        foreach (var (name, shape) in expected.Schema.Expected)
        {
            var e = expected.Read(name);
            var a = actual.Read(name);
            Assert.Equal(name, a.Name);
            Assert.Equal(shape, a.Shape);
            Assert.Equal(e.DType, a.DType);
            Assert.True(e.Bytes.SequenceEqual(a.Bytes), $"tensor '{name}' differs between {expected.Layout} and {actual.Layout}");
        }
    }

    private static Dictionary<string, object?> ReadJson(string path, Action<Dictionary<string, object?>> edit)
    {
        var dict = JsonSerializer.Deserialize<Dictionary<string, object?>>(File.ReadAllText(path))!;
        edit(dict);
        return dict;
    }

    private void WriteJson(string name, object value) => File.WriteAllText(_dir.File(name), JsonSerializer.Serialize(value));
}
