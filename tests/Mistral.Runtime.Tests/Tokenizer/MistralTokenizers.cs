using Mistral.Runtime.Tokenizer;
using Xunit;
using Mistral.Testing;

namespace Mistral.Runtime.Tests.Tokenizer;

/// <summary>Mistral 7B v0.1's tokenizer loaded once per file format and shared by the test classes (loading takes ~0.1 s).</summary>
internal static class MistralTokenizers
{
    private static readonly Lazy<SentencePieceBpe> FromModel =
        new(() => TokenizerFiles.LoadSentencePiece(Path.Combine(Fixtures.MistralTokenizer, TokenizerFiles.SentencePieceFileName)));

    private static readonly Lazy<SentencePieceBpe> FromJson =
        new(() => TokenizerFiles.LoadSentencePiece(Path.Combine(Fixtures.MistralTokenizer, TokenizerFiles.HuggingFaceFileName)));

    private static readonly Lazy<IReadOnlyList<TokenizerCase>> PublicCases = new(() => TokenizerCase.Load(Fixtures.MistralTokenizer));

    public const string ModelFile = "tokenizer.model";
    public const string JsonFile = "tokenizer.json";

    /// <summary>Theory data: both file names.</summary>
    public static TheoryData<string> Files => new(ModelFile, JsonFile);

    public static SentencePieceBpe Get(string file) => file switch
    {
        ModelFile => FromModel.Value,
        JsonFile => FromJson.Value,
        _ => throw new ArgumentException($"unknown tokenizer file {file}", nameof(file)),
    };

    public static IReadOnlyList<TokenizerCase> Cases => PublicCases.Value;
}
