namespace Mistral.Runtime.Training;

/// <summary>
/// One optimizer step as the progress display sees it. EvalLoss is set on steps that evaluated. Mfu (model FLOPs
/// utilisation, train only) is null when the device's peak is unknown; DeviceBytes is null on the CPU.
/// </summary>
public sealed record TrainProgress(int Step, int MaxSteps, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, TimeSpan Eta, double? EvalLoss, double? Mfu = null, long? DeviceBytes = null);
