namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// What a `train` run reports: the steps completed (fewer than max_steps when stopped), the last step's loss (NaN when
/// no step ran), the last validation loss (null without a validation split or eval), throughput of this process's
/// steps, and the newest checkpoint folder.
/// </summary>
public sealed record PretrainResult(int Steps, int MaxSteps, double LastTrainLoss, double? EvalLoss, double TokensPerSecond, string? LastCheckpoint)
{
    public bool Stopped => Steps < MaxSteps;
}
