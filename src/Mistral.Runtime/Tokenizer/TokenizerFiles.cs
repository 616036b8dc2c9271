namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Finds and loads a model's tokenizer. A directory is searched for <c>tokenizer.model</c> (SentencePiece, what
/// mistral-src reads) and then <c>tokenizer.json</c> (Hugging Face); a file is read by its format, *.json as
/// Hugging Face and anything else as a SentencePiece model (e.g. tokenizer.model.v1).
/// </summary>
public static class TokenizerFiles
{
    public const string SentencePieceFileName = "tokenizer.model";
    public const string HuggingFaceFileName = "tokenizer.json";

    public static ITokenizer Load(string path) => LoadSentencePiece(path);

    /// <summary>The same as <see cref="Load"/>, typed as the one implementation there is.</summary>
    public static SentencePieceBpe LoadSentencePiece(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Resolve(path) is var file && file.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? HfTokenizerJsonReader.Read(file)
            : SentencePieceBpe.FromSpec(SentencePieceModelReader.Read(file));
    }

    /// <summary>The tokenizer file <see cref="Load"/> would read for <paramref name="path"/>.</summary>
    public static string Resolve(string path)
    {
        if (File.Exists(path))
            return path;
        if (!Directory.Exists(path))
            throw new TokenizerFormatException(path, "no such file or directory; expected a model directory or a tokenizer file");
        foreach (var name in new[] { SentencePieceFileName, HuggingFaceFileName })
        {
            var candidate = Path.Combine(path, name);
            if (File.Exists(candidate))
                return candidate;
        }
        var tekken = File.Exists(Path.Combine(path, "tekken.json")) ? " (tekken.json, Mistral's tiktoken format, is not supported)" : "";
        throw new TokenizerFormatException(path, $"no {SentencePieceFileName} or {HuggingFaceFileName} in this directory{tekken}");
    }
}
