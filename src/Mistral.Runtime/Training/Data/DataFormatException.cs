namespace Mistral.Runtime.Training.Data;

/// <summary>Training data that cannot be used: names the file (and line when there is one) and what was expected.</summary>
public sealed class DataFormatException(string file, string problem) : Exception($"{file}: {problem}")
{
    public string File { get; } = file;
}
