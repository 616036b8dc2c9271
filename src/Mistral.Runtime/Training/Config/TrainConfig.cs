namespace Mistral.Runtime.Training.Config;

/// <summary>
/// The one training configuration, read from YAML (see <see cref="TrainConfigLoader"/>), modelled on mistral-finetune's
/// 7B_lora.yaml. Paths are absolute. Effective YAML = the file with every --set applied (written into each checkpoint).
/// SeqLen counts model inputs per packed window; BatchSize windows make one micro-batch, NumMicrobatches micro-batches one
/// optimizer step. KeepLastCheckpoints null keeps all. MaxGradNorm null or ≤ 0 disables clipping. Lora null (`lora: null`):
/// full-parameter fine-tuning, every weight trained with Hugging Face Trainer's two weight-decay groups.
/// Device: "auto" | "cpu" | "cuda" | "emu". Precision: "auto" | "fp32" | "bf16".
/// </summary>
public sealed record TrainConfig(
    DataConfig Data,
    string InitialModelPath,
    string RunDir,
    int SeqLen,
    int BatchSize,
    int NumMicrobatches,
    int MaxSteps,
    OptimConfig Optim,
    LoraConfig? Lora,
    ulong Seed,
    int LogFreq,
    int EvalFreq,
    bool NoEval,
    CheckpointSchedule Checkpoints,
    int? KeepLastCheckpoints,
    double? MaxGradNorm,
    string Device,
    string Precision,
    bool Recompute,
    string SourceFile,
    string EffectiveYaml)
{
    /// <summary>skip_nonfinite: a step whose loss or gradient norm is not finite is skipped (no update) instead of stopping the run.</summary>
    public bool SkipNonFinite { get; init; }

    /// <summary>zero_stage: 0 every rank holds the whole AdamW state; 1 it is sharded across the ranks (ZeRO stage 1). Same numbers either way.</summary>
    public int ZeroStage { get; init; }
}
