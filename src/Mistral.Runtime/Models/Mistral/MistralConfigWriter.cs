using System.Text.Json.Nodes;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// A <see cref="MistralConfig"/> as the config.json of a MistralForCausalLM (MistralConfig's keys), so transformers
/// loads the folder as is and <see cref="MistralConfigReader.FromHfConfigJson"/> reads back an equal config.
/// sliding_window null means none; max_position_embeddings is left out when the config does not state a context (the
/// reader then gives none back; transformers takes its default). The config holds no special ids: bos 1 and eos 2
/// are MistralConfig's defaults and what Mistral's tokenizers use.
/// </summary>
public static class MistralConfigWriter
{
    public const int BosTokenId = 1;
    public const int EosTokenId = 2;

    public static JsonObject ToConfigJson(MistralConfig c, DType storedDType)
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("MistralForCausalLM"),
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["head_dim"] = c.HeadDim,
            ["hidden_act"] = "silu",
            ["hidden_size"] = c.Dim,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = c.HiddenDim,
            ["model_type"] = MistralFamily.FamilyName,
            ["num_attention_heads"] = c.NHeads,
            ["num_hidden_layers"] = c.NLayers,
            ["num_key_value_heads"] = c.NKvHeads,
            ["rms_norm_eps"] = HfConfigValues.Float(c.NormEps),
            ["rope_theta"] = HfConfigValues.Float(c.RopeTheta),
            ["sliding_window"] = c.SlidingWindow,
            ["tie_word_embeddings"] = c.TieWordEmbeddings,
            ["torch_dtype"] = HfConfigValues.TorchDType(storedDType),
            ["use_cache"] = true,
            ["vocab_size"] = c.VocabSize,
        };
        if (c.ContextLength is int context)
            json["max_position_embeddings"] = context;
        return json;
    }
}
