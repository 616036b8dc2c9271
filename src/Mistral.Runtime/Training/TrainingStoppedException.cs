namespace Mistral.Runtime.Training;

/// <summary>
/// Training cannot go on (a non-finite loss or gradient norm): says at which step, what was non-finite and which
/// checkpoint is the last good one to resume from.
/// </summary>
public sealed class TrainingStoppedException(string message) : Exception(message);
