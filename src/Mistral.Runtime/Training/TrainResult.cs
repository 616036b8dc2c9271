namespace Mistral.Runtime.Training;

/// <summary>What a finished run reports. Eval losses are null when evaluation was off. MergedModelPath is run_dir/merged, null when the run was stopped early.</summary>
public sealed record TrainResult(int Steps, double LastTrainLoss, double? FirstEvalLoss, double? LastEvalLoss,
    double TokensPerSecond, string? LastCheckpoint, string? MergedModelPath);
