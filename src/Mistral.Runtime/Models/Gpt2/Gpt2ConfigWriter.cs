using System.Text.Json.Nodes;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// A <see cref="Gpt2Config"/> as the config.json of a GPT2LMHeadModel: GPT2Config's keys, the ones save_pretrained
/// writes, so transformers loads the folder as is and <see cref="Gpt2ConfigReader"/> reads back an equal config.
/// Dropout is 0: the engine trains without it, and a model fine-tuned further in transformers should not gain it
/// silently. The summary_* keys belong to GPT2DoubleHeadsModel and carry GPT2Config's defaults.
/// </summary>
public static class Gpt2ConfigWriter
{
    public static JsonObject ToConfigJson(Gpt2Config c, DType storedDType) => new()
    {
        ["activation_function"] = c.Activation switch
        {
            Gpt2Activation.GeluTanh => "gelu_new",
            Gpt2Activation.GeluErf => "gelu",
            _ => throw new ArgumentOutOfRangeException(nameof(c), c.Activation, "unknown activation"),
        },
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["attn_pdrop"] = 0.0,
        ["bos_token_id"] = c.BosTokenId,
        ["embd_pdrop"] = 0.0,
        ["eos_token_id"] = c.EosTokenId,
        ["initializer_range"] = 0.02,
        ["layer_norm_epsilon"] = HfConfigValues.Float(c.LayerNormEpsilon),
        ["model_type"] = Gpt2ConfigReader.ModelType,
        ["n_ctx"] = c.NPositions,   // the older name of n_positions, which older loaders read
        ["n_embd"] = c.NEmbd,
        ["n_head"] = c.NHead,
        ["n_inner"] = c.NInner == 4 * c.NEmbd ? null : c.NInner,   // null: GPT2Config's 4·n_embd, as the hub's configs say it
        ["n_layer"] = c.NLayer,
        ["n_positions"] = c.NPositions,
        ["reorder_and_upcast_attn"] = c.ReorderAndUpcastAttn,
        ["resid_pdrop"] = 0.0,
        ["scale_attn_by_inverse_layer_idx"] = c.ScaleAttnByInverseLayerIdx,
        ["scale_attn_weights"] = c.ScaleAttnWeights,
        ["summary_activation"] = null,
        ["summary_first_dropout"] = 0.1,
        ["summary_proj_to_labels"] = true,
        ["summary_type"] = "cls_index",
        ["summary_use_proj"] = true,
        ["tie_word_embeddings"] = c.TieWordEmbeddings,
        ["torch_dtype"] = HfConfigValues.TorchDType(storedDType),
        ["use_cache"] = true,
        ["vocab_size"] = c.VocabSize,
    };
}
