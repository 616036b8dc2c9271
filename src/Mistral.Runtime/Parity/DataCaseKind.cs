using System.Text.Json;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Pretrain.Data;

namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "data": the pretraining token stream. The documents of the case's jsonl (its first file) are read and tokenized
/// by the pretraining pipeline (<see cref="TextCorpusReader"/>, <see cref="DocumentTokenizer"/>) with the model
/// directory's tokenizer, each preceded by "eot_id"; the stream is cut into "block_size" blocks, the remainder dropped.
/// Both are compared exactly with "stream" [n] and "blocks" [N, block_size] of the case's token file (its second file).
/// </summary>
public sealed class DataCaseKind : IParityCaseKind
{
    public string Kind => "data";

    public ParityCaseResult Run(ParityCase testCase, ParityContext context)
    {
        var files = testCase.Required("files");
        if (files.ValueKind != JsonValueKind.Array || files.GetArrayLength() != 2)
            throw testCase.Error("field 'files' must list the documents (jsonl) and the token file");
        string docsPath = Path.Combine(context.FixtureDir, FileOf(testCase, files[0]));
        string tokensPath = Path.Combine(context.FixtureDir, FileOf(testCase, files[1]));
        int eot = testCase.OptionalInt("eot_id") ?? throw testCase.Error("field 'eot_id' is missing");
        int blockSize = testCase.OptionalInt("block_size") ?? throw testCase.Error("field 'block_size' is missing");

        string tokenizerPath = TokenizerFiles.FindInDirectory(context.ModelDir)
            ?? throw testCase.Error($"the model directory {context.ModelDir} has no tokenizer");
        var tokenizer = TokenizerFiles.Load(tokenizerPath);
        var documents = TextCorpusReader.Read([docsPath], maxBadFraction: 0).Documents;
        int[] stream = DocumentTokenizer.Stream(documents, tokenizer, eot);
        int[] blocks = stream[..(stream.Length / blockSize * blockSize)];

        using var file = Model.SafeTensorsFile.Open(tokensPath);
        int[] expectedStream = ParityCase.ReadInts(file, "stream"), expectedBlocks = ParityCase.ReadInts(file, "blocks");
        bool equal = stream.SequenceEqual(expectedStream) && blocks.SequenceEqual(expectedBlocks);
        string detail = $"{documents.Count} documents → {stream.Length} tokens (reference {expectedStream.Length}), " +
            $"{blocks.Length / blockSize} blocks of {blockSize} (reference {expectedBlocks.Length / blockSize})";
        return new ParityCaseResult(testCase.Name, Kind, equal ? ParityStatus.Pass : ParityStatus.Fail, null, equal, null, detail);
    }

    private static string FileOf(ParityCase testCase, JsonElement entry) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("file", out var file) && file.GetString() is { } name
            ? name
            : throw testCase.Error("each entry of 'files' needs a 'file'");
}
