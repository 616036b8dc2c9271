using System.Text;
using Mistral.Runtime.Tokenizer;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Tokenizer;

/// <summary>GPT-2 byte-level BPE against OpenAI encoder.py's ids (tests/fixtures/tokenizers/gpt2/cases.jsonl).</summary>
public sealed class Gpt2ByteLevelBpeTests
{
    private static readonly string Dir = Path.Combine(Fixtures.Root, "tokenizers", "gpt2");
    private static readonly Lazy<ITokenizer> Gpt2 = new(() => TokenizerFiles.Load(Dir));
    private static readonly Lazy<IReadOnlyList<TokenizerCase>> Cases = new(() => TokenizerCase.Load(Dir));

    [Fact]
    public void Encode_PublicCases_MatchEncoderPy()
    {
        var failures = new StringBuilder();
        foreach (var c in Cases.Value)
        {
            var actual = Gpt2.Value.Encode(c.Text, bos: c.AddBos);
            if (!actual.SequenceEqual(c.Ids))
                failures.Append($"{c.Label}\n  expected [{string.Join(' ', c.Ids)}]\n  actual   [{string.Join(' ', actual)}]\n");
        }
        Assert.True(failures.Length == 0, $"cases that differ from encoder.py:\n{failures}");
    }

    [Fact]
    public void Decode_PublicCaseIds_GivesBackTextAlsoWhenStreamed()
    {
        foreach (var c in Cases.Value)
        {
            Assert.True(c.Text == Gpt2.Value.Decode(c.Ids), $"{c.Label}: decode differs");
            var decoder = Gpt2.Value.CreateStreamingDecoder();
            var streamed = new StringBuilder();
            foreach (var id in c.Ids)
            {
                var delta = decoder.Push(id);
                Assert.False(delta.Contains('\uFFFD'), $"{c.Label}: half a character after id {id}");
                streamed.Append(delta);
            }
            Assert.True(c.Text == streamed.Append(decoder.Flush()).ToString(), $"{c.Label}: streamed text differs");
        }
    }

    [Fact]
    public void Load_Gpt2Files_HaveOpenAiVocabulary()
    {
        var gpt2 = Gpt2.Value;
        Assert.Equal(50257, gpt2.VocabSize);
        Assert.Equal((50256, -1), (gpt2.EosId, gpt2.UnkId));
        Assert.Equal("<|endoftext|>", gpt2.IdToPiece(50256));
        Assert.Equal("\u0120t", gpt2.IdToPiece(256)); // README: merge k creates id 256 + k; merge 0 is "Ġ t"
        Assert.Equal("<|endoftext|>", gpt2.Decode([50256]));
        Assert.DoesNotContain(50256, gpt2.Encode("a<|endoftext|>b", bos: false)); // text stays text
    }

    [Fact]
    public void Load_MergeWithUnknownToken_NamesFileAndMerge()
    {
        var dir = Directory.CreateTempSubdirectory("mistral-gpt2-").FullName;
        try
        {
            File.Copy(Path.Combine(Dir, "vocab.json"), Path.Combine(dir, "vocab.json"));
            File.WriteAllLines(Path.Combine(dir, "merges.txt"), ["#version: 0.2", "\u0120 t", "zz\u00ff qq"]);
            var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(dir));
            Assert.Contains("merges.txt: merge 1 'zz\u00ff qq'", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
