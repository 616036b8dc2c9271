namespace Mistral.Runtime.Training.Config;

/// <summary>A training config that cannot be used: names the file, the key path (e.g. "optim.lr") and what was expected.</summary>
public sealed class TrainConfigException(string file, string keyPath, string problem)
    : Exception(keyPath.Length == 0 ? $"{file}: {problem}" : $"{file}: {keyPath}: {problem}")
{
    public string File { get; } = file;
    public string KeyPath { get; } = keyPath;
}
