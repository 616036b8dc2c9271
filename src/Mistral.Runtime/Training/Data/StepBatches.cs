namespace Mistral.Runtime.Training.Data;

/// <summary>
/// One optimizer step as one rank sees it: its own micro-batches (<see cref="Local"/>, possibly none) and, for the
/// whole step across every rank, Σ loss weights (the loss denominator) and the token count.
/// </summary>
public sealed record StepBatches(IReadOnlyList<TrainBatch> Local, double WeightSum, int TokenCount);
