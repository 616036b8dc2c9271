namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// The `training_arguments` section, with Hugging Face TrainingArguments' names and meanings. One optimizer step sees
/// EffectiveBatchSize = PerDeviceTrainBatchSize · world size · GradientAccumulationSteps blocks (checked to divide exactly).
/// MaxGradNorm 0 turns clipping off. EvalSteps defaults to LoggingSteps, as in transformers.
/// </summary>
public sealed record TrainingArguments(
    int PerDeviceTrainBatchSize,
    int EffectiveBatchSize,
    int GradientAccumulationSteps,
    double LearningRate,
    double WeightDecay,
    double AdamBeta1,
    double AdamBeta2,
    double AdamEpsilon,
    double MaxGradNorm,
    int MaxSteps,
    string LrSchedulerType,
    int WarmupSteps,
    bool Bf16,
    int LoggingSteps,
    int EvalSteps)
{
    /// <summary>zero_stage: 0 (AdamW state on every rank) or 1 (sharded across the ranks); for <see cref="DataParallelOptimizer.Create"/>.</summary>
    public int ZeroStage { get; init; }

    /// <summary>The learning rate of every optimizer step (transformers' scheduler of this type).</summary>
    public LrSchedule Schedule() => LrSchedule.HuggingFace(LrSchedulerType, LearningRate, MaxSteps, WarmupSteps);
}
