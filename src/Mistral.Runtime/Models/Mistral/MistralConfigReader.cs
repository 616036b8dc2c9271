using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// Reads <see cref="MistralConfig"/> from a native params.json or a Hugging Face config.json. Both spellings of the same
/// model give equal records. Defaults follow what each reference does when a field is absent.
/// </summary>
public static class MistralConfigReader
{
    /// <summary>
    /// Native params.json (mistral-src). rope_theta absent: 10000 when sliding_window is set, else 1e6, as mistral-src's
    /// loader does; head_dim absent: dim / n_heads; n_kv_heads absent: n_heads.
    /// </summary>
    public static MistralConfig FromParamsJson(string path)
    {
        var json = JsonFields.Load(path);
        if (json.Has("moe"))
            throw new CheckpointFormatException(path, "field 'moe': mixture-of-experts models (Mixtral) are not supported");

        int dim = json.PositiveInt("dim");
        int nHeads = json.PositiveInt("n_heads");
        int? slidingWindow = json.PositiveIntOr("sliding_window", null);
        var config = new MistralConfig(
            Dim: dim,
            NLayers: json.PositiveInt("n_layers"),
            HeadDim: json.PositiveIntOr("head_dim", null) ?? DeriveHeadDim(json, "dim", dim, "n_heads", nHeads),
            HiddenDim: json.PositiveInt("hidden_dim"),
            NHeads: nHeads,
            NKvHeads: json.PositiveIntOr("n_kv_heads", nHeads)!.Value,
            SlidingWindow: slidingWindow,
            NormEps: json.PositiveFloat("norm_eps"),
            VocabSize: json.PositiveInt("vocab_size"),
            RopeTheta: json.PositiveFloatOr("rope_theta", slidingWindow is null ? 1e6f : 1e4f)!.Value);
        return Validate(path, config, "n_heads", "n_kv_heads", "head_dim");
    }

    /// <summary>
    /// Hugging Face config.json of a MistralForCausalLM. Absent fields take transformers' MistralConfig defaults
    /// (sliding_window 4096, rope_theta 10000, rms_norm_eps 1e-6); an explicit null sliding_window means none.
    /// head_dim absent or null: hidden_size / num_attention_heads.
    /// </summary>
    public static MistralConfig FromHfConfigJson(string path)
    {
        var json = JsonFields.Load(path);
        CheckArchitecture(json);
        if (json.Has("rope_scaling"))
            throw new CheckpointFormatException(path, "field 'rope_scaling' is set; scaled RoPE is not supported (expected absent or null)");

        int hidden = json.PositiveInt("hidden_size");
        int nHeads = json.PositiveInt("num_attention_heads");
        int? slidingWindow = json.Present("sliding_window") ? json.PositiveIntOr("sliding_window", null) : 4096;
        var config = new MistralConfig(
            Dim: hidden,
            NLayers: json.PositiveInt("num_hidden_layers"),
            HeadDim: json.PositiveIntOr("head_dim", null) ?? DeriveHeadDim(json, "hidden_size", hidden, "num_attention_heads", nHeads),
            HiddenDim: json.PositiveInt("intermediate_size"),
            NHeads: nHeads,
            NKvHeads: json.PositiveIntOr("num_key_value_heads", nHeads)!.Value,
            SlidingWindow: slidingWindow,
            NormEps: json.PositiveFloatOr("rms_norm_eps", 1e-6f)!.Value,
            VocabSize: json.PositiveInt("vocab_size"),
            RopeTheta: json.PositiveFloatOr("rope_theta", 1e4f)!.Value,
            TieWordEmbeddings: json.BoolOr("tie_word_embeddings", false),
            ContextLength: json.PositiveIntOr("max_position_embeddings", null));
        return Validate(path, config, "num_attention_heads", "num_key_value_heads", "head_dim");
    }

    private static void CheckArchitecture(JsonFields json)
    {
        string? modelType = json.StringOrNull("model_type");
        if (modelType is not null && modelType != "mistral")
            throw new CheckpointFormatException(json.FilePath, $"field 'model_type' is '{modelType}'; expected 'mistral' (MistralForCausalLM)");
        if (json.Root.TryGetProperty("architectures", out var architectures) && architectures.ValueKind == System.Text.Json.JsonValueKind.Array)
        {
            foreach (var a in architectures.EnumerateArray())
                if (a.ValueKind != System.Text.Json.JsonValueKind.String || a.GetString() != "MistralForCausalLM")
                    throw new CheckpointFormatException(json.FilePath, $"field 'architectures' lists {a.GetRawText()}; expected \"MistralForCausalLM\"");
        }
    }

    private static int DeriveHeadDim(JsonFields json, string dimField, int dim, string headsField, int heads)
    {
        if (dim % heads != 0)
            throw new CheckpointFormatException(json.FilePath, $"field 'head_dim' is absent and {dimField} {dim} is not divisible by {headsField} {heads}; give head_dim explicitly");
        return dim / heads;
    }

    private static MistralConfig Validate(string path, MistralConfig c, string headsField, string kvHeadsField, string headDimField)
    {
        if (c.NHeads % c.NKvHeads != 0)
            throw new CheckpointFormatException(path, $"{headsField} {c.NHeads} must be a multiple of {kvHeadsField} {c.NKvHeads} (grouped-query attention)");
        if (c.HeadDim % 2 != 0)
            throw new CheckpointFormatException(path, $"{headDimField} {c.HeadDim} must be even (RoPE rotates pairs)");
        return c;
    }
}
