namespace Mistral.Runtime.Training;

/// <summary>One optimizer step as the progress display sees it. EvalLoss is set on steps that evaluated.</summary>
public sealed record TrainProgress(int Step, int MaxSteps, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, TimeSpan Eta, double? EvalLoss);
