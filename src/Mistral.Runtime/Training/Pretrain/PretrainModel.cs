using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Config;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// The model a `train` run starts from: its config (model.id preset, model.config_path, or the config of
/// model.initial_weights, with the GPT-2 attention flags applied), checked against the tokenizer and seq_len, and its
/// first weights as fp32 host tensors by native name — from the checkpoint being resumed, from initial_weights, or a
/// seeded initialisation of the family.
/// </summary>
internal static class PretrainModel
{
    public static IModelConfig Config(PretrainConfig config)
    {
        var m = config.Model;
        IModelConfig model = m.Preset is { } preset ? preset.ToConfig(m.ScaleAttnByInverseLayerIdx, m.ReorderAndUpcastAttn)
            : m.ConfigPath is { } path ? ModelDirectory.ReadConfigFile(path)
            : ModelDirectoryConfig(m.InitialWeights!);
        if (model is Gpt2Config gpt2)
            model = gpt2 with
            {
                ScaleAttnByInverseLayerIdx = gpt2.ScaleAttnByInverseLayerIdx || m.ScaleAttnByInverseLayerIdx,
                ReorderAndUpcastAttn = gpt2.ReorderAndUpcastAttn || m.ReorderAndUpcastAttn,
            };
        else if (m.ScaleAttnByInverseLayerIdx || m.ReorderAndUpcastAttn)
            throw new TrainConfigException(config.SourceFiles[^1], m.ScaleAttnByInverseLayerIdx ? "model.scale_attn_by_inverse_layer_idx" : "model.reorder_and_upcast_attn",
                $"is a GPT-2 attention setting; the model is of the {model.Family} family");
        return model;
    }

    private static IModelConfig ModelDirectoryConfig(string directory)
    {
        using var dir = ModelDirectory.Open(directory);
        return dir.Config;
    }

    /// <summary>The tokenizer's ids must fit the embedding, and a block must fit a learned position table.</summary>
    public static void Check(PretrainConfig config, IModelConfig model, ITokenizer tokenizer)
    {
        var file = config.SourceFiles[^1];
        if (tokenizer.VocabSize > model.VocabSize)
            throw new TrainConfigException(file, "model.tokenizer",
                $"the tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {model.VocabSize}: every id must have an embedding row");
        if (model.PositionLimit is int limit && config.Model.SeqLen - 1 > limit)
            throw new TrainConfigException(file, "model.seq_len", $"{config.Model.SeqLen} needs {config.Model.SeqLen - 1} positions; the model has {limit}");
    }

    /// <summary>Every stored tensor of the model by native name, fp32 (the training master weights start from these).</summary>
    public static IReadOnlyDictionary<string, HostTensor> InitialTensors(PretrainConfig config, IModelConfig model, string? checkpoint)
    {
        if ((checkpoint ?? config.Model.InitialWeights) is { } directory)
        {
            using var dir = ModelDirectory.Open(directory);
            var schema = ModelFamilies.Of(model).Schema(model);
            return schema.Stored.ToDictionary(e => e.Name, e => Fp32(dir.Read(e.Name)), StringComparer.Ordinal);
        }
        return ModelFamilies.Of(model).Initialize(model, config.Seed).ToDictionary(t => t.Name, Fp32, StringComparer.Ordinal);
    }

    // A copy in fp32: a tensor read from a directory points into its memory map, which closes with the directory.
    private static HostTensor Fp32(HostTensor t) => HostTensor.FromFloat32(t.Name, t.ToFloat32(), t.Shape);
}
