using System.Text.Json.Nodes;
using Mistral.Runtime.Tokenizer;
using Xunit;
using Mistral.Testing;

namespace Mistral.Runtime.Tests.Tokenizer;

/// <summary>Missing, truncated, corrupt or unsupported tokenizer files: one TokenizerFormatException naming the file.</summary>
public sealed class TokenizerFileErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mistral-tok-").FullName;
    private static string RealModel => Path.Combine(Fixtures.MistralTokenizer, TokenizerFiles.SentencePieceFileName);
    private static string RealJson => Path.Combine(Fixtures.MistralTokenizer, TokenizerFiles.HuggingFaceFileName);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_Directory_PrefersTokenizerModel()
    {
        Assert.Equal(RealModel, TokenizerFiles.Resolve(Fixtures.MistralTokenizer));
        File.Copy(RealJson, Path.Combine(_dir, TokenizerFiles.HuggingFaceFileName));
        Assert.Equal(Path.Combine(_dir, TokenizerFiles.HuggingFaceFileName), TokenizerFiles.Resolve(_dir));
        Assert.Equal([1, 22557, 1526, 28808], TokenizerFiles.Load(_dir).Encode("Hello world!", bos: true));
    }

    [Fact]
    public void Resolve_VersionedModelFiles_TakesTheNewestBeforeTokenizerJson()
    {
        // Mistral's later releases ship tokenizer.model.v1 / .v3 instead of tokenizer.model.
        File.Copy(RealJson, Path.Combine(_dir, TokenizerFiles.HuggingFaceFileName));
        File.Copy(RealModel, Path.Combine(_dir, "tokenizer.model.v1"));
        File.Copy(RealModel, Path.Combine(_dir, "tokenizer.model.v3"));
        File.WriteAllText(Path.Combine(_dir, "tokenizer.model.vbak"), "not a version");
        Assert.Equal(Path.Combine(_dir, "tokenizer.model.v3"), TokenizerFiles.Resolve(_dir));
        Assert.Equal([1, 22557, 1526, 28808], TokenizerFiles.Load(_dir).Encode("Hello world!", bos: true));
    }

    [Fact]
    public void Load_MissingPathOrEmptyDirectory_NamesWhatWasExpected()
    {
        var missing = Path.Combine(_dir, "nope");
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(missing));
        Assert.Contains(missing, e.Message);
        e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(_dir));
        Assert.Contains("no tokenizer.model or tokenizer.json", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(493_443 / 2)]
    [InlineData(493_443 - 1)]
    public void Load_TruncatedModel_ThrowsNamingTheFile(int length)
    {
        // Cutting a protobuf anywhere leaves a field that runs past the end (the real file ends inside
        // normalizer_spec, so even the last byte matters).
        var path = Write("tokenizer.model", File.ReadAllBytes(RealModel)[..length]);
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void Load_GarbageModel_Throws()
    {
        var path = Write("tokenizer.model", "this is not a protobuf at all\n"u8.ToArray());
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Load_UnigramModel_IsRefusedByName()
    {
        // trainer_spec.model_type is the varint after tag 0x18 (field 3, wire type 0) inside trainer_spec; set it to
        // UNIGRAM (1). The tag is found by scanning from the trainer_spec field (tag 0x12) that follows the pieces.
        var bytes = File.ReadAllBytes(RealModel);
        var modelType = FindTrainerModelTypeValue(bytes);
        Assert.Equal(2, bytes[modelType]); // BPE in the real file
        bytes[modelType] = 1;
        var path = Write("tokenizer.model", bytes);
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(path));
        Assert.Contains("UNIGRAM", e.Message);
    }

    [Theory]
    [InlineData("{\"model\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"version\": \"1.0\"}")]
    [InlineData("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}")]
    [InlineData("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": \"zero\"}, \"merges\": []}}")]
    public void Load_MalformedJson_ThrowsNamingTheFile(string json)
    {
        var path = Write("tokenizer.json", System.Text.Encoding.UTF8.GetBytes(json));
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void Load_JsonMergeOutsideVocabulary_NamesTheMerge()
    {
        var json = JsonNode.Parse(File.ReadAllText(RealJson))!;
        json["model"]!["merges"]!.AsArray().Insert(0, "▁t zzz");
        var path = Write("tokenizer.json", System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()));
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(path));
        Assert.Contains("merge 0 '▁t zzz'", e.Message);
    }

    [Fact]
    public void Load_JsonSplittingPreTokenizer_IsRefused()
    {
        var json = JsonNode.Parse(File.ReadAllText(RealJson))!;
        json["pre_tokenizer"] = JsonNode.Parse("{\"type\": \"ByteLevel\", \"add_prefix_space\": false}");
        var path = Write("tokenizer.json", System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()));
        var e = Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(path));
        Assert.Contains("ByteLevel", e.Message);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // Walks the top-level fields (pieces are field 1, length-delimited) to trainer_spec (field 2), then walks its
    // fields to model_type (field 3, varint) and returns the offset of that varint's single byte.
    private static int FindTrainerModelTypeValue(byte[] bytes)
    {
        var i = 0;
        while (true)
        {
            var tag = ReadVarint(bytes, ref i);
            var length = (int)ReadVarint(bytes, ref i);
            if (tag == 0x12)
                break;
            i += length;
        }
        while (true)
        {
            var tag = ReadVarint(bytes, ref i);
            if (tag == 0x18)
                return i;
            Assert.Equal(2, (int)(tag & 7)); // the fields before model_type are strings
            var length = (int)ReadVarint(bytes, ref i);
            i += length;
        }
    }

    private static ulong ReadVarint(byte[] bytes, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
    }
}
