namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// The `model` section of a `train` config. The shape comes from Preset (`model.id`), or ConfigPath (an HF config.json
/// or a native params.json, either family), or the InitialWeights directory's own config. Paths are absolute.
/// SeqLen: tokens per training block (inputs + 1 shifted target; defaults to the preset's MaxPositions).
/// Tokenizer: a directory or tokenizer file (defaults to InitialWeights). The GPT-2 attention flags follow GPT2Config.
/// </summary>
public sealed record PretrainModelConfig(
    string? Id,
    ModelPreset? Preset,
    string? ConfigPath,
    int SeqLen,
    string? InitialWeights,
    string Tokenizer,
    bool ScaleAttnByInverseLayerIdx,
    bool ReorderAndUpcastAttn,
    bool GradientCheckpointing);
