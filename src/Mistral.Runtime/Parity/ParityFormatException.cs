namespace Mistral.Runtime.Parity;

/// <summary>A parity fixture that cannot be read: names the file and what was expected.</summary>
public sealed class ParityFormatException(string path, string problem) : Exception($"{path}: {problem}")
{
    public string FilePath { get; } = path;
}
