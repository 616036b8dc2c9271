using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// Reads <see cref="Gpt2Config"/> from a Hugging Face config.json (GPT2Config) and validates it once. The sizes
/// (vocab_size, n_positions or the older n_ctx, n_embd, n_layer, n_head) are required: a missing one is an error, not
/// transformers' gpt2-small default. The other fields take GPT2Config's defaults when absent, as save_pretrained
/// leaves out fields equal to them (tie_word_embeddings, most often).
/// </summary>
public static class Gpt2ConfigReader
{
    public const string ModelType = "gpt2";

    public static Gpt2Config FromConfigJson(string path)
    {
        var json = JsonFields.Load(path);
        string? modelType = json.StringOrNull("model_type");
        if (modelType is not null && modelType != ModelType)
            throw new CheckpointFormatException(path, $"field 'model_type' is '{modelType}'; expected '{ModelType}'");
        if (json.BoolOr("add_cross_attention", false))
            throw new CheckpointFormatException(path, "field 'add_cross_attention' is true; GPT-2 with cross-attention (an encoder-decoder's decoder) is not supported");

        int nEmbd = json.PositiveInt("n_embd");
        int nHead = json.PositiveInt("n_head");
        if (nEmbd % nHead != 0)
            throw new CheckpointFormatException(path, $"n_embd {nEmbd} is not divisible by n_head {nHead} (each head takes n_embd / n_head features)");
        int nPositions = json.PositiveIntOr("n_positions", null)
            ?? json.PositiveIntOr("n_ctx", null)
            ?? throw json.Missing("n_positions", "a positive integer, the context length (older files call it n_ctx)");

        return new Gpt2Config(
            VocabSize: json.PositiveInt("vocab_size"),
            NPositions: nPositions,
            NEmbd: nEmbd,
            NLayer: json.PositiveInt("n_layer"),
            NHead: nHead,
            NInner: json.PositiveIntOr("n_inner", null) ?? checked(4 * nEmbd),
            Activation: Activation(json),
            LayerNormEpsilon: json.PositiveFloatOr("layer_norm_epsilon", 1e-5f)!.Value,
            ScaleAttnWeights: json.BoolOr("scale_attn_weights", true),
            ScaleAttnByInverseLayerIdx: json.BoolOr("scale_attn_by_inverse_layer_idx", false),
            ReorderAndUpcastAttn: json.BoolOr("reorder_and_upcast_attn", false),
            TieWordEmbeddings: json.BoolOr("tie_word_embeddings", true),
            BosTokenId: TokenId(json, "bos_token_id"),
            EosTokenId: TokenId(json, "eos_token_id"));
    }

    /// <summary>GPT2Config's default is 50256 (&lt;|endoftext|&gt;); an explicit null means none.</summary>
    private static int? TokenId(JsonFields json, string field) =>
        json.Present(field) ? json.NonNegativeIntOr(field, null) : EndOfText;

    private const int EndOfText = 50256;

    /// <summary>transformers' ACT2FN names for the two GELU forms; the others would silently compute another function.</summary>
    private static Gpt2Activation Activation(JsonFields json)
    {
        string name = json.StringOrNull("activation_function") ?? "gelu_new";
        return name switch
        {
            "gelu_new" or "gelu_pytorch_tanh" => Gpt2Activation.GeluTanh,
            "gelu" => Gpt2Activation.GeluErf,
            _ => throw new CheckpointFormatException(json.FilePath, $"field 'activation_function' is '{name}', which is not supported (expected gelu_new, gelu_pytorch_tanh or gelu)"),
        };
    }
}
