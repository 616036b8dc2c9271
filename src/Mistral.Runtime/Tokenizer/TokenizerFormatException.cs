namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// A tokenizer file is missing, truncated or holds something this tokenizer does not support. The message names the
/// file and what was expected, so the CLI can print it as it is.
/// </summary>
public sealed class TokenizerFormatException : Exception
{
    public TokenizerFormatException(string path, string problem)
        : base($"{path}: {problem}")
    {
        FilePath = path;
    }

    public TokenizerFormatException(string path, string problem, Exception inner)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
    }

    /// <summary>The tokenizer file (or directory) the problem was found in.</summary>
    public string FilePath { get; }
}
