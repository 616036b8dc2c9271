namespace Mistral.Runtime.Model;

/// <summary>
/// A model or tensor file that cannot be read as what it claims to be: truncated, malformed, hostile, or not matching
/// the model config. The message always starts with the file and then says what was wrong and what was expected.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file (or model directory) at fault.</summary>
    public string FilePath { get; }

    /// <summary>What was wrong, without the path.</summary>
    public string Problem { get; }
}
