namespace Mistral.Runtime.Generation;

/// <summary>
/// Called once per generated token, in order, as soon as it is chosen (streaming). Return false to stop that sequence
/// (its finish reason becomes <see cref="FinishReason.Stop"/>; the token stays in its output).
/// </summary>
public delegate bool TokenCallback(int sequence, int token);
