namespace Mistral.Runtime.Tokenizer;

/// <summary>
/// Finds and loads a model's tokenizer. A directory is searched for <c>tokenizer.model</c> (SentencePiece, what
/// mistral-src reads; or the newest <c>tokenizer.model.vN</c>), then <c>tokenizer.json</c> (Hugging Face), then GPT-2's <c>vocab.json</c> + <c>merges.txt</c>.
/// A file is read by its name: vocab.json or merges.txt as GPT-2 (with its sibling), any other *.json as Hugging
/// Face, anything else as a SentencePiece model (e.g. tokenizer.model.v1).
/// </summary>
public static class TokenizerFiles
{
    public const string SentencePieceFileName = "tokenizer.model";
    public const string HuggingFaceFileName = "tokenizer.json";

    public static ITokenizer Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = Resolve(path);
        var name = Path.GetFileName(file);
        if (name is Gpt2ByteLevelBpe.VocabFileName or Gpt2ByteLevelBpe.MergesFileName)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
            return Gpt2ByteLevelBpe.Load(Path.Combine(dir, Gpt2ByteLevelBpe.VocabFileName), Path.Combine(dir, Gpt2ByteLevelBpe.MergesFileName));
        }
        return LoadSentencePiece(file);
    }

    /// <summary>A SentencePiece-style tokenizer from tokenizer.model or tokenizer.json (or a directory holding one).</summary>
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
        if (FindInDirectory(path) is { } found)
            return found;
        var tekken = File.Exists(Path.Combine(path, "tekken.json")) ? " (tekken.json, Mistral's tiktoken format, is not supported)" : "";
        throw new TokenizerFormatException(path, $"no {SentencePieceFileName} or {HuggingFaceFileName} in this directory{tekken}");
    }

    /// <summary>
    /// The tokenizer file of a model directory, or null: tokenizer.model, then the highest versioned
    /// tokenizer.model.vN that Mistral's later releases ship, then tokenizer.json, then GPT-2's vocab.json.
    /// </summary>
    public static string? FindInDirectory(string directory)
    {
        var plain = Path.Combine(directory, SentencePieceFileName);
        if (File.Exists(plain))
            return plain;
        var versioned = Directory.EnumerateFiles(directory, SentencePieceFileName + ".v*")
            .Select(f => (File: f, Version: int.TryParse(Path.GetFileName(f)[(SentencePieceFileName.Length + 2)..], out var v) ? v : -1))
            .Where(f => f.Version >= 0)
            .OrderByDescending(f => f.Version)
            .Select(f => f.File)
            .FirstOrDefault();
        if (versioned is not null)
            return versioned;
        return new[] { HuggingFaceFileName, Gpt2ByteLevelBpe.VocabFileName }
            .Select(name => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
    }
}
