using Mistral.Runtime.Model;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Model;

public sealed class MistralConfigReaderTests : IDisposable
{
    private const string Mistral7BParams = """
        {"dim": 4096, "n_layers": 32, "head_dim": 128, "hidden_dim": 14336, "n_heads": 32, "n_kv_heads": 8,
         "norm_eps": 1e-05, "sliding_window": 4096, "vocab_size": 32000}
        """;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Mistral_7b_v01_params_get_rope_theta_10000_because_it_has_a_window()
    {
        // The params.json shipped in mistral-7B-v0.1.tar: no rope_theta, so mistral-src uses 10000.
        var c = MistralConfigReader.FromParamsJson(Write("params.json", Mistral7BParams));
        Assert.Equal(new MistralConfig(4096, 32, 128, 14336, 32, 8, 4096, 1e-5f, 32000, 10000f), c);
        Assert.Equal(7_241_732_096, c.ParameterCount); // Mistral 7B's published parameter count
    }

    [Fact]
    public void Params_without_window_or_rope_theta_get_1e6()
    {
        var c = MistralConfigReader.FromParamsJson(Write("params.json", """
            {"dim": 64, "n_layers": 1, "hidden_dim": 128, "n_heads": 4, "norm_eps": 1e-6, "vocab_size": 100}
            """));
        Assert.Null(c.SlidingWindow);
        Assert.Equal(1e6f, c.RopeTheta);
        Assert.Equal(16, c.HeadDim); // derived dim / n_heads
        Assert.Equal(4, c.NKvHeads); // defaults to n_heads
    }

    [Fact]
    public void Hf_null_window_means_none_and_null_head_dim_is_derived()
    {
        var c = MistralConfigReader.FromHfConfigJson(Write("config.json", """
            {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096, "intermediate_size": 14336,
             "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": null,
             "sliding_window": null, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "vocab_size": 32768,
             "max_position_embeddings": 32768, "tie_word_embeddings": false}
            """));
        Assert.Equal(new MistralConfig(4096, 32, 128, 14336, 32, 8, null, 1e-5f, 32768, 1e6f, false, 32768), c);
    }

    [Fact]
    public void Hf_absent_window_takes_the_transformers_default_4096()
    {
        var c = MistralConfigReader.FromHfConfigJson(Write("config.json", """
            {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10,
             "tie_word_embeddings": true}
            """));
        Assert.Equal(4096, c.SlidingWindow);
        Assert.Equal(1e4f, c.RopeTheta);
        Assert.Equal(1e-6f, c.NormEps);
        Assert.True(c.TieWordEmbeddings);
    }

    [Theory]
    [InlineData("""{"n_layers": 1}""", "missing field 'dim' (a positive integer)")]
    [InlineData("""{"dim": "64"}""", "field 'dim' must be a positive integer, found String \"64\"")]
    [InlineData("""{"dim": 64.5}""", "field 'dim' must be a positive integer, found Number 64.5")]
    [InlineData("""{"dim": -64}""", "field 'dim' = -64 must be a positive integer")]
    [InlineData("""{"dim": 64, "n_heads": 4, "n_layers": 1, "hidden_dim": 8, "norm_eps": 0, "vocab_size": 5}""", "field 'norm_eps' = 0 must be a positive number that a 32-bit float holds")]
    // One rule for every float field, judged on the fp32 value the engine uses: 1e39 is infinity there, 1e-50 zero.
    [InlineData("""{"dim": 64, "n_heads": 4, "n_layers": 1, "hidden_dim": 8, "norm_eps": 1e-5, "vocab_size": 5, "rope_theta": 1e39}""", "field 'rope_theta' = 1e39 must be a positive number that a 32-bit float holds")]
    [InlineData("""{"dim": 64, "n_heads": 4, "n_layers": 1, "hidden_dim": 8, "norm_eps": 1e400, "vocab_size": 5}""", "field 'norm_eps' = 1e400 must be a positive number that a 32-bit float holds")]
    [InlineData("""{"dim": 64, "n_heads": 4, "n_layers": 1, "hidden_dim": 8, "norm_eps": 1e-50, "vocab_size": 5}""", "field 'norm_eps' = 1e-50 must be a positive number that a 32-bit float holds")]
    [InlineData("""{"dim": 64, "n_heads": 4, "n_layers": 1, "hidden_dim": 8, "norm_eps": 1e-5, "vocab_size": 5, "rope_theta": -1e39}""", "field 'rope_theta' = -1e39 must be a positive number")]
    // A key given twice: which one a reader keeps is an accident, so neither is taken.
    [InlineData("""{"dim": 64, "dim": 128, "n_heads": 4, "n_layers": 1, "hidden_dim": 8, "norm_eps": 1e-5, "vocab_size": 5}""", "'dim'")]
    [InlineData("""{"dim": 64, "n_heads": 4, "n_kv_heads": 3, "n_layers": 1, "hidden_dim": 8, "norm_eps": 1e-5, "vocab_size": 5}""", "n_heads 4 must be a multiple of n_kv_heads 3")]
    [InlineData("""{"dim": 60, "n_heads": 4, "n_layers": 1, "hidden_dim": 8, "norm_eps": 1e-5, "vocab_size": 5}""", "head_dim 15 must be even")]
    [InlineData("""{"dim": 64, "moe": {"num_experts": 8}}""", "mixture-of-experts models (Mixtral) are not supported")]
    [InlineData("""{"dim": 64,""", "not valid JSON")]
    [InlineData("""[1]""", "expected a JSON object at the top level")]
    public void Bad_params_json_names_the_file_and_field(string json, string expected)
    {
        var path = Write("params.json", json);
        var e = Assert.Throws<CheckpointFormatException>(() => MistralConfigReader.FromParamsJson(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("""{"model_type": "llama"}""", "field 'model_type' is 'llama'; expected 'mistral'")]
    [InlineData("""{"architectures": ["MixtralForCausalLM"]}""", "field 'architectures' lists \"MixtralForCausalLM\"")]
    [InlineData("""{"rope_scaling": {"type": "linear", "factor": 2}}""", "field 'rope_scaling' is set")]
    [InlineData("""{"hidden_size": 64}""", "missing field 'num_attention_heads'")]
    public void Bad_config_json_names_the_file_and_field(string json, string expected)
    {
        var path = Write("config.json", json);
        var e = Assert.Throws<CheckpointFormatException>(() => MistralConfigReader.FromHfConfigJson(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    private string Write(string name, string json)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, json);
        return path;
    }
}
