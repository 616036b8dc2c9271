using System.Text;
using System.Text.Json;
using Mistral.Runtime.Tokenizer;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Tokenizer;

/// <summary>
/// Random texts and random id lists with expectations from real SentencePiece 0.1.97 (Data/make_sentencepiece_cases.py):
/// harder than the public cases on purpose (astral and private-use characters, controls, invalid UTF-8 byte runs,
/// UNK/BOS/EOS in the middle, lone '▁'), so both the merge order and the decode rules are pinned to the reference.
/// </summary>
public sealed class SentencePieceRandomCasesTests
{
    private static readonly string DataDir = Path.Combine(Fixtures.Root, "..", "Mistral.Runtime.Tests", "Tokenizer", "Data");

    public static TheoryData<string> Files => MistralTokenizers.Files;

    [Theory]
    [MemberData(nameof(Files))]
    public void Encode_RandomTexts_MatchSentencePiece(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        var cases = TokenizerCase.Load(DataDir, "sentencepiece-random-encode.jsonl");
        Assert.Equal(400, cases.Count);
        var failures = new StringBuilder();
        foreach (var c in cases)
        {
            var actual = tokenizer.Encode(c.Text, bos: c.AddBos);
            if (!actual.SequenceEqual(c.Ids))
                failures.Append($"{c.Label}\n  expected [{string.Join(' ', c.Ids)}]\n  actual   [{string.Join(' ', actual)}]\n");
        }
        Assert.True(failures.Length == 0, $"{file}: texts encoded differently from SentencePiece:\n{failures}");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Decode_RandomIdLists_MatchSentencePieceWholeAndStreamed(string file)
    {
        var tokenizer = MistralTokenizers.Get(file);
        var failures = new StringBuilder();
        var count = 0;
        foreach (var line in File.ReadLines(Path.Combine(DataDir, "sentencepiece-random-decode.jsonl")))
        {
            count++;
            using var doc = JsonDocument.Parse(line);
            var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var expected = doc.RootElement.GetProperty("text").GetString();
            var whole = tokenizer.Decode(ids);
            var decoder = tokenizer.CreateStreamingDecoder();
            var streamed = string.Concat(ids.Select(decoder.Push)) + decoder.Flush();
            if (whole != expected || streamed != expected)
                failures.Append($"line {count}: ids [{string.Join(' ', ids)}]\n  expected {JsonSerializer.Serialize(expected)}\n"
                    + $"  decoded  {JsonSerializer.Serialize(whole)}\n  streamed {JsonSerializer.Serialize(streamed)}\n");
        }
        Assert.Equal(600, count);
        Assert.True(failures.Length == 0, $"{file}: decodes that differ from SentencePiece:\n{failures}");
    }
}
