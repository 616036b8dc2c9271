using Mistral.Runtime.Model;
using Mistral.Runtime.Tests.Model;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Pretrain.Data;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class PretrainDataTests : IDisposable
{
    private static readonly string DataCase = Path.Combine(Fixtures.Root, "tiny-gpt2", "data");
    private static readonly string Gpt2Dir = Path.Combine(Fixtures.Root, "tokenizers", "gpt2");
    private static readonly Lazy<ITokenizer> Gpt2 = new(() => TokenizerFiles.Load(Gpt2Dir));

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private PretrainDataOptions Options(IReadOnlyList<string> train, int seqLen = 16, double ratio = 0, IReadOnlyList<string>? validation = null, int numProc = 2) =>
        new(train, validation ?? [], ratio, Seed: 7, seqLen, numProc, MaxBadLineFraction: 0.01, _dir.File("cache"), PretrainDataOptions.FilesOfTokenizer(Gpt2Dir));

    private static (long[] Stream, long[] Blocks) Reference()
    {
        using var tokens = SafeTensorsFile.Open(Path.Combine(DataCase, "tokens.safetensors"));
        return (tokens["stream"].ToInt64(), tokens["blocks"].ToInt64());
    }

    private static int[] AllBlocks(TokenBlocks blocks) => Enumerable.Range(0, blocks.Count).SelectMany(blocks.Read).ToArray();

    [Fact]
    public void Stream_FixtureDocs_EqualsReferenceStreamExactly()
    {
        var docs = TextCorpusReader.Read([Path.Combine(DataCase, "docs.jsonl")], 0).Documents;
        var stream = DocumentTokenizer.Stream(docs, Gpt2.Value, PretrainData.SeparatorOf(Gpt2.Value));
        Assert.Equal(50256, PretrainData.SeparatorOf(Gpt2.Value));
        Assert.Equal(Reference().Stream, stream.Select(t => (long)t).ToArray());
    }

    [Fact]
    public void Prepare_FixtureDocs_BlocksEqualReferenceExactly()
    {
        using var data = PretrainData.Prepare(Options([Path.Combine(DataCase, "docs.jsonl")]), Gpt2.Value);
        var (stream, blocks) = Reference();
        Assert.Equal(7, data.Train.Count);
        Assert.Equal(blocks, AllBlocks(data.Train).Select(t => (long)t).ToArray());
        Assert.Equal(new TokenSplitInfo(PretrainData.TrainFileName, 8, stream.Length, 7, 1), data.Manifest.Train);
        Assert.Equal(TokenDType.UInt16, data.Manifest.Key.DType);
        Assert.Equal(7 * 16 * 2, new FileInfo(data.Train.Path).Length); // uint16, remainder dropped
        Assert.Null(data.Validation);
        Assert.False(data.FromCache);
    }

    [Fact]
    public void Prepare_NumProc_DoesNotChangeTheTokens()
    {
        var file = WriteCorpus("big.jsonl", 300);
        int[] one, eight;
        using (var data = PretrainData.Prepare(Options([file], numProc: 1) with { CacheDir = _dir.File("c1") }, Gpt2.Value)) one = AllBlocks(data.Train);
        using (var data = PretrainData.Prepare(Options([file], numProc: 8) with { CacheDir = _dir.File("c8") }, Gpt2.Value)) eight = AllBlocks(data.Train);
        Assert.Equal(one, eight);
    }

    [Fact]
    public void Prepare_Twice_SecondIsFromCache()
    {
        var options = Options([Path.Combine(DataCase, "docs.jsonl")]);
        using (var first = PretrainData.Prepare(options, Gpt2.Value)) Assert.False(first.FromCache);
        using var second = PretrainData.Prepare(options, Gpt2.Value);
        Assert.True(second.FromCache);
        Assert.Null(second.RebuildReason);
        Assert.Equal(Reference().Blocks, AllBlocks(second.Train).Select(t => (long)t).ToArray());
    }

    [Fact]
    public void Prepare_SourceChanged_ManifestMismatchRebuilds()
    {
        var file = _dir.File("docs.jsonl");
        File.Copy(Path.Combine(DataCase, "docs.jsonl"), file);
        using (PretrainData.Prepare(Options([file]), Gpt2.Value)) { }
        File.AppendAllText(file, "{\"text\": \"One more document to change the stream and its hash.\"}\n");
        using var rebuilt = PretrainData.Prepare(Options([file]), Gpt2.Value);
        Assert.False(rebuilt.FromCache);
        Assert.Equal("train file changed: docs.jsonl", rebuilt.RebuildReason);
        Assert.Equal(9, rebuilt.Manifest.Train.Documents);
        Assert.True(rebuilt.Manifest.Train.StreamTokens > 113);
    }

    [Fact]
    public void Prepare_NoManifest_HalfWrittenCacheIsNeverUsed()
    {
        var options = Options([Path.Combine(DataCase, "docs.jsonl")]);
        string folder;
        using (var first = PretrainData.Prepare(options, Gpt2.Value)) folder = first.Folder;
        // A build killed before its manifest landed: token files present (here garbage), no manifest.
        File.Delete(Path.Combine(folder, TokenCacheManifest.FileName));
        File.WriteAllBytes(Path.Combine(folder, PretrainData.TrainFileName), new byte[7 * 16 * 2]);
        using var again = PretrainData.Prepare(options, Gpt2.Value);
        Assert.False(again.FromCache);
        Assert.StartsWith("no manifest", again.RebuildReason);
        Assert.Equal(Reference().Blocks, AllBlocks(again.Train).Select(t => (long)t).ToArray());
    }

    [Fact]
    public void Prepare_UnreadableManifest_Rebuilds()
    {
        var options = Options([Path.Combine(DataCase, "docs.jsonl")]);
        string folder;
        using (var first = PretrainData.Prepare(options, Gpt2.Value)) folder = first.Folder;
        File.WriteAllText(Path.Combine(folder, TokenCacheManifest.FileName), "{\"format\": 0}");
        using var again = PretrainData.Prepare(options, Gpt2.Value);
        Assert.False(again.FromCache);
        Assert.Equal(7, again.Train.Count);
    }

    [Fact]
    public void Prepare_TruncatedTokenFile_Rebuilds()
    {
        var options = Options([Path.Combine(DataCase, "docs.jsonl")]);
        string folder;
        using (var first = PretrainData.Prepare(options, Gpt2.Value)) folder = first.Folder;
        using (var f = File.OpenWrite(Path.Combine(folder, PretrainData.TrainFileName))) f.SetLength(100);
        using var again = PretrainData.Prepare(options, Gpt2.Value);
        Assert.False(again.FromCache);
        Assert.Contains("has 100 bytes", again.RebuildReason);
        Assert.Equal(7, again.Train.Count);
    }

    [Fact]
    public void Prepare_OtherSeqLen_OwnCacheFolder()
    {
        var docs = Path.Combine(DataCase, "docs.jsonl");
        using var a = PretrainData.Prepare(Options([docs], seqLen: 16), Gpt2.Value);
        using var b = PretrainData.Prepare(Options([docs], seqLen: 32), Gpt2.Value);
        Assert.NotEqual(a.Folder, b.Folder);
        Assert.Equal((7, 3), (a.Train.Count, b.Train.Count)); // 113 tokens: 7 blocks of 16, 3 of 32
        Assert.Equal(Reference().Stream.Take(96).ToArray(), AllBlocks(b.Train).Select(t => (long)t).ToArray());
    }

    [Fact]
    public void Prepare_ValidationRatio_SeededReproducibleDisjointSplit()
    {
        var file = WriteCorpus("corpus.jsonl", 200);
        var docs = TextCorpusReader.Read([file], 0).Documents;
        var (train, validation) = DatasetSplit.Split(docs, 0.1, 7);
        using var data = PretrainData.Prepare(Options([file], ratio: 0.1), Gpt2.Value);
        Assert.Equal((180, 20), (data.Manifest.Train.Documents, data.Manifest.Validation!.Documents));
        var sep = PretrainData.SeparatorOf(Gpt2.Value);
        Assert.Equal(DocumentTokenizer.Stream(validation, Gpt2.Value, sep)[..(data.Validation!.Count * 16)], AllBlocks(data.Validation));
        Assert.Equal(DocumentTokenizer.Stream(train, Gpt2.Value, sep)[..(data.Train.Count * 16)], AllBlocks(data.Train));
        Assert.Empty(train.Intersect(validation));

        using var otherSeed = PretrainData.Prepare(Options([file], ratio: 0.1) with { Seed = 8 }, Gpt2.Value);
        Assert.NotEqual(AllBlocks(data.Validation), AllBlocks(otherSeed.Validation!));
    }

    [Fact]
    public void Prepare_ValidationFiles_UsedInsteadOfTheRatio()
    {
        var train = WriteCorpus("t.jsonl", 50);
        var valid = WriteCorpus("v.jsonl", 10, offset: 1000);
        using var data = PretrainData.Prepare(Options([train], ratio: 0.5, validation: [valid]), Gpt2.Value);
        Assert.Equal((50, 10), (data.Manifest.Train.Documents, data.Manifest.Validation!.Documents));
        Assert.Null(data.Manifest.Key.ValidationRatio);
    }

    [Fact]
    public void Prepare_RatioWithOneDocument_ClearError()
    {
        var file = _dir.File("one.txt");
        File.WriteAllText(file, "just one paragraph of text, no blank line anywhere in it");
        var e = Assert.Throws<DataFormatException>(() => PretrainData.Prepare(Options([file], ratio: 0.1), Gpt2.Value));
        Assert.Contains("at least 2 documents", e.Message);
    }

    [Fact]
    public void Prepare_LargeVocabulary_StoresUInt32()
    {
        var tokenizer = new WideTokenizer();
        var file = _dir.File("w.txt");
        File.WriteAllText(file, "abcdefgh\n\nijklmnop");
        var options = Options([file], seqLen: 4) with { TokenizerFiles = [file] };
        using var data = PretrainData.Prepare(options, tokenizer);
        Assert.Equal(TokenDType.UInt32, data.Manifest.Key.DType);
        Assert.Equal(4, data.Train.Count); // 2 × (1 + 8) = 18 tokens → 4 blocks of 4
        Assert.Equal([70_000, 70_097, 70_098, 70_099], data.Train.Read(0));
        Assert.Equal(4 * 4 * 4, new FileInfo(data.Train.Path).Length);
    }

    [Fact]
    public void Batch_BlocksBecomeShiftedInputsAndTargets()
    {
        using var data = PretrainData.Prepare(Options([Path.Combine(DataCase, "docs.jsonl")]), Gpt2.Value);
        var batch = data.Train.Batch([3, 0]);
        var b3 = data.Train.Read(3);
        var b0 = data.Train.Read(0);
        Assert.Equal([.. b3[..^1], .. b0[..^1]], batch.Inputs);
        Assert.Equal([.. b3[1..], .. b0[1..]], batch.Targets);
        Assert.Equal(30.0, batch.WeightSum);
    }

    [Fact]
    public void Prepare_BadLines_CountedInTheManifestWithLineNumbers()
    {
        var file = WriteCorpus("bad.jsonl", 200);
        var lines = File.ReadAllLines(file);
        lines[41] = "{\"txt\": \"wrong key\"}";
        File.WriteAllLines(file, lines);
        using var data = PretrainData.Prepare(Options([file]), Gpt2.Value);
        Assert.Equal(1, data.Manifest.BadLines);
        Assert.Equal("bad.jsonl:42: expected a \"text\" string", Assert.Single(data.Manifest.BadLineExamples));
        Assert.Equal(199, data.Manifest.Train.Documents);
    }

    [Fact]
    public void Tokenize_ReportsProgressUpToEveryDocument()
    {
        var docs = Enumerable.Range(0, 1000).Select(i => $"Document number {i}.").ToList();
        var reports = new List<TokenizeProgress>();
        using var writer = new TokenFileWriter(_dir.File("p.tokens"), TokenDType.UInt16);
        long written = DocumentTokenizer.Tokenize(docs, Gpt2.Value, 50256, 3, writer, "train", new SyncProgress(reports.Add));
        Assert.Equal(DocumentTokenizer.Stream(docs, Gpt2.Value, 50256).Length, written);
        Assert.Equal((1000, 1000, written), (reports[^1].Documents, reports[^1].TotalDocuments, reports[^1].Tokens));
        Assert.True(reports.Count > 1);
        Assert.Equal(reports.Select(r => r.Documents).Order(), reports.Select(r => r.Documents));
    }

    [Fact]
    public void TokenFileWriter_NotCommitted_LeavesNoFile()
    {
        var path = _dir.File("never.tokens");
        using (var writer = new TokenFileWriter(path, TokenDType.UInt16)) writer.Append([1, 2, 3]);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    // Progress<T> posts to the thread pool; tests want the reports in order, on the calling thread.
    private sealed class SyncProgress(Action<TokenizeProgress> report) : IProgress<TokenizeProgress>
    {
        public void Report(TokenizeProgress value) => report(value);
    }

    private string WriteCorpus(string name, int documents, int offset = 0)
    {
        var path = _dir.File(name);
        File.WriteAllLines(path, Enumerable.Range(offset, documents).Select(i =>
            $"{{\"text\": \"Document {i} says that {i * 7 % 13} apples and {i % 5} pears make a meal.\"}}"));
        return path;
    }

    // A tokenizer whose ids do not fit uint16: one id per character, 70000 + code.
    private sealed class WideTokenizer : ITokenizer
    {
        public bool AddsBos => false;
        public int VocabSize => 70_200;
        public int BosId => 70_000;
        public int EosId => 70_001;
        public int UnkId => -1;
        public int[] Encode(string text, bool bos, bool eos = false) => text.Select(c => 70_000 + c).ToArray();
        public string Decode(IEnumerable<int> ids) => throw new NotSupportedException();
        public IStreamingDecoder CreateStreamingDecoder() => throw new NotSupportedException();
        public string IdToPiece(int id) => throw new NotSupportedException();
    }
}
