using Mistral.Runtime.Training.Config;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// The configuration of `mistral-cu train`, read by <see cref="PretrainConfigLoader"/> from YAML with stanford-crfm/mistral's
/// keys. ArtifactsDir is `artifacts.run_dir`; the run writes into RunDir = ArtifactsDir/RunId. CacheDir holds tokenized
/// data (`artifacts.cache_dir`, default ArtifactsDir/cache). Device: "auto" | "cpu" | "cuda" | "emu".
/// SourceFiles: the config file and every file it inherits, in merge order (later ones win).
/// EffectiveYaml: the merged tree with every --set applied and paths made absolute (written into each checkpoint).
/// </summary>
public sealed record PretrainConfig(
    string RunId,
    string ArtifactsDir,
    string RunDir,
    string CacheDir,
    ulong Seed,
    bool RunTraining,
    bool RunFinalEval,
    string Device,
    PretrainDatasetConfig Dataset,
    PretrainModelConfig Model,
    TrainingArguments Training,
    CheckpointSchedule Checkpoints,
    IReadOnlyList<string> SourceFiles,
    string EffectiveYaml);
