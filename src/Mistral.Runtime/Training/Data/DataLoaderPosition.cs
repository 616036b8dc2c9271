namespace Mistral.Runtime.Training.Data;

/// <summary>Where a <see cref="TrainDataLoader"/> stands: the next window of the given epoch (saved in checkpoints).</summary>
public readonly record struct DataLoaderPosition(int Epoch, int Window);
