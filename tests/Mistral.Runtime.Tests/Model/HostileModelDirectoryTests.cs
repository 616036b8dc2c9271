using System.Diagnostics;
using System.Text.Json;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models.Mistral;
using Mistral.Runtime.Tokenizer;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Model;

/// <summary>
/// Model directories as users (and hostile files) really have them: the Hugging Face cache's symbolic links, FIFOs,
/// NaN weights, padded or short embeddings, absurd sizes, tensors stored twice. Each case is refused at load with one
/// message naming the file, or loads and runs correctly.
/// </summary>
public sealed class HostileModelDirectoryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Open_HfCacheLayoutOfSymbolicLinks_LoadsTheTargetsBitIdentical()
    {
        // snapshots/REV/file -> ../../blobs/SHA, as huggingface_hub lays a download out; the config is a link too.
        var blobs = Directory.CreateDirectory(Path.Combine(_dir.Path, "blobs")).FullName;
        var snapshot = Directory.CreateDirectory(Path.Combine(_dir.Path, "snapshots", "rev")).FullName;
        foreach (var (name, sha) in new[] { ("consolidated.safetensors", "a1"), ("params.json", "b2"), ("tokenizer.model", "c3") })
        {
            File.Copy(Path.Combine(Fixtures.TinyNative, name), Path.Combine(blobs, sha));
            File.CreateSymbolicLink(Path.Combine(snapshot, name), Path.Combine("..", "..", "blobs", sha));
        }

        using var linked = ModelDirectory.Open(snapshot);
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        ModelDirectoryTests.AssertSameTensors(native, linked);
        Assert.Equal(new FileInfo(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors")).Length, linked.WeightBytes);
        Assert.Equal(32000, TokenizerFiles.Load(linked.TokenizerPath!).VocabSize);
    }

    [Fact]
    public void Open_SymbolicLinkedPthWeights_Load()
    {
        File.CreateSymbolicLink(_dir.File("consolidated.00.pth"), Path.Combine(Fixtures.TinyNativePth, "consolidated.00.pth"));
        File.Copy(Path.Combine(Fixtures.TinyNativePth, "params.json"), _dir.File("params.json"));
        using var linked = ModelDirectory.Open(_dir.Path);
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        ModelDirectoryTests.AssertSameTensors(native, linked);
    }

    [Fact]
    public void Open_DanglingSymbolicLink_NamesTheMissingTarget()
    {
        File.CreateSymbolicLink(_dir.File("consolidated.safetensors"), _dir.File("gone"));
        File.Copy(Path.Combine(Fixtures.TinyNative, "params.json"), _dir.File("params.json"));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{_dir.File("consolidated.safetensors")}: is a symbolic link to '{_dir.File("gone")}', which does not exist", e.Message);
    }

    [Theory]
    [InlineData("consolidated.safetensors")]
    [InlineData("params.json")]
    public async Task Open_FifoInTheModelDirectory_IsRefusedInsteadOfBlocking(string fifoName)
    {
        foreach (var name in new[] { "consolidated.safetensors", "params.json" }.Where(n => n != fifoName))
            File.Copy(Path.Combine(Fixtures.TinyNative, name), _dir.File(name));
        MakeFifo(_dir.File(fifoName));
        var e = await WithinSeconds(30, () => Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path)));
        Assert.Equal($"{_dir.File(fifoName)}: is a FIFO (named pipe), not a regular file", e.Message);
    }

    [Fact]
    public async Task LoadTokenizer_Fifo_IsRefusedInsteadOfBlocking()
    {
        MakeFifo(_dir.File("tokenizer.model"));
        var e = await WithinSeconds(30, () => Assert.Throws<TokenizerFormatException>(() => TokenizerFiles.Load(_dir.Path)));
        Assert.Equal($"{_dir.File("tokenizer.model")}: is a FIFO (named pipe), not a regular file", e.Message);
    }

    [Fact]
    public void Read_NanInAWeight_IsRefusedWithFileTensorAndElement_UnlessAllowed()
    {
        WriteNativeCopy(_dir.Path, tensors => tensors.Select(t => t.Name == MistralTensorNames.W2(1) ? WithValue(t, 3 * 176 + 5, float.NaN) : t));
        using var model = ModelDirectory.Open(_dir.Path);
        var e = Assert.Throws<CheckpointFormatException>(() => model.Read(MistralTensorNames.W2(1)));
        Assert.Equal($"{_dir.File("consolidated.safetensors")}: tensor 'layers.1.feed_forward.w2.weight' holds NaN at element [3, 5] (flat index 533); " +
                     "a model with non-finite weights writes garbage (--allow-nonfinite loads it anyway)", e.Message);
        using var ops = new CpuOps();
        Assert.Throws<CheckpointFormatException>(() => LoadedModel.Load(_dir.Path, ops));

        using var allowed = ModelDirectory.Open(_dir.Path, new ModelLoadOptions(AllowNonFinite: true));
        Assert.True(float.IsNaN(allowed.Read(MistralTensorNames.W2(1)).ToFloat32()[533]));
    }

    [Fact]
    public void Read_InfinityInAnHfShard_NamesTheHfTensorAndItsShard()
    {
        ModelDirectoryTests.WriteShardedHfCopy(_dir.Path);
        var shard = _dir.File("model-00002-of-00002.safetensors");
        var tensors = SafeTensorsFile.ReadAll(shard);
        SafeTensorsWriter.Write(shard, tensors.Values.Select(t => t.Name == "model.norm.weight" ? WithValue(t, 63, float.NegativeInfinity) : t));
        using var model = ModelDirectory.Open(_dir.Path);
        var e = Assert.Throws<CheckpointFormatException>(() => model.Read(MistralTensorNames.Norm));
        Assert.StartsWith($"{shard}: tensor 'model.norm.weight' (native 'norm.weight') holds -Infinity at element [63] (flat index 63)", e.Message);
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    public void FirstNonFinite_FindsTheFirstNanOrInfinityAtEveryPosition(DType dtype)
    {
        // 67 elements: a vector body and a scalar tail for every vector width.
        var values = Enumerable.Range(0, 67).Select(i => (float)Math.Sin(i) * 1000).ToArray();
        Assert.Equal(-1, HostTensor.FromFloat32("w", values, new Shape(67), dtype).FirstNonFinite());
        foreach (int at in new[] { 0, 15, 16, 33, 66 })
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                var copy = (float[])values.Clone();
                copy[at] = bad;
                if (at + 3 < copy.Length) copy[at + 3] = float.NaN; // only the first counts
                Assert.Equal(at, HostTensor.FromFloat32("w", copy, new Shape(67), dtype).FirstNonFinite());
            }
    }

    [Fact]
    public void Load_TokenizerLargerThanTheEmbedding_IsRefusedNamingBothFilesAndSizes()
    {
        WriteNativeCopy(_dir.Path, tensors => tensors.Select(t => t.Name is MistralTensorNames.TokEmbeddings or MistralTensorNames.Output ? Rows(t, 31000) : t),
            config => config["vocab_size"] = 31000);
        using var ops = new CpuOps();
        var e = Assert.Throws<CheckpointFormatException>(() => LoadedModel.Load(_dir.Path, ops));
        Assert.Equal($"{_dir.File("tokenizer.model")}: the tokenizer has 32000 ids but the model's embedding (params.json vocab_size, consolidated.safetensors) " +
                     "has only 31000 rows: they are not one model's files", e.Message);
    }

    [Fact]
    public void Generate_EmbeddingPaddedPastTheTokenizer_NeverSamplesAPaddingRow()
    {
        // 64 padding rows whose output weights are ±100: without the mask one of them has by far the largest logit.
        WriteNativeCopy(_dir.Path, tensors => tensors.Select(t => t.Name switch
        {
            MistralTensorNames.TokEmbeddings => Rows(t, 32064),
            MistralTensorNames.Output => Rows(t, 32064, fill: row => row % 2 == 0 ? 100f : -100f),
            _ => t,
        }), config => config["vocab_size"] = 32064);
        using var ops = new CpuOps();
        using var loaded = LoadedModel.Load(_dir.Path, ops);
        Assert.Equal(32000, loaded.SampleableVocab);
        var prompt = loaded.RequireTokenizer().Encode("The capital of France is", bos: true);
        var generator = new Generator(loaded.Model);

        var unmasked = generator.Generate([prompt], new GenerationOptions { MaxTokens = 4 });
        Assert.All(unmasked.Sequences[0].Tokens, id => Assert.True(id >= 32000, $"the padding rows should dominate unmasked, got {id}"));
        var masked = generator.Generate([prompt], new GenerationOptions { MaxTokens = 4, SampleableVocab = loaded.SampleableVocab });
        Assert.All(masked.Sequences[0].Tokens, id => Assert.InRange(id, 0, 31999));
        Assert.All(masked.Sequences[0].Logprobs, lp => Assert.True(float.IsFinite(lp)));
    }

    [Fact]
    public void Open_ConfigDeclaringABillionLayers_IsRefusedBeforeReadingTheWeights()
    {
        WriteNativeCopy(_dir.Path, tensors => tensors, config => config["n_layers"] = 1_000_000_000);
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{_dir.File("params.json")}: declares 46,208,004,096,064 parameters but the weight files hold only 4,188,480 values: " +
                     "the config does not describe these weights", e.Message);
    }

    [Fact]
    public void KvCache_LargerThanTheMachine_IsRefusedBeforeAllocatingNamingBothSizes()
    {
        using var model = ModelDirectory.Open(Fixtures.TinyNative);
        var config = (MistralConfig)model.Config with { NLayers = 1_000_000, SlidingWindow = null };
        using var ops = new CpuOps();
        // 2 · 10^6 layers · 1000 rows · 2^20 slots · 32 · 4 bytes: far beyond any host.
        var e = Assert.Throws<MemoryBudgetException>(() => new RollingKvCache(ops, config, 1000, 1 << 20));
        Assert.StartsWith("a KV cache of 1000 sequence(s) × 1,048,576 positions × 1000000 layers needs 238.4 PiB, more than the ", e.Message);
        Assert.EndsWith(" cpu has", e.Message);
    }

    [Fact]
    public void Generate_TwoMillionTokenPromptWithPromptLogprobs_IsRefusedBeforePrefill()
    {
        using var tiny = new TinyModel();
        var prompt = new int[2_000_000];
        prompt.AsSpan().Fill(100);
        var e = Assert.Throws<MemoryBudgetException>(() =>
            new Generator(tiny.Model).Generate([prompt], new GenerationOptions { MaxTokens = 1, PromptLogprobs = true }));
        Assert.StartsWith("prefilling 2,000,000 prompt tokens (chunks of 2,000,000; --chunk-size makes them smaller) needs ", e.Message);
    }

    [Fact]
    public void Open_IndexNamingATensorTwice_IsRefused()
    {
        ModelDirectoryTests.WriteShardedHfCopy(_dir.Path);
        var index = _dir.File("model.safetensors.index.json");
        // The same key twice in weight_map, pointing at each shard: JSON readers keep either one.
        var text = File.ReadAllText(index).Replace("\"weight_map\":{", "\"weight_map\":{\"model.norm.weight\":\"model-00001-of-00002.safetensors\",");
        File.WriteAllText(index, text);
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{index}: key 'weight_map.model.norm.weight' is given twice; which one counts would be an accident, so neither does", e.Message);
    }

    [Fact]
    public void Open_ShardHoldingATensorTheIndexPlacesElsewhere_IsRefused()
    {
        ModelDirectoryTests.WriteShardedHfCopy(_dir.Path);
        string first = _dir.File("model-00001-of-00002.safetensors"), second = _dir.File("model-00002-of-00002.safetensors");
        var secondTensors = SafeTensorsFile.ReadAll(second);
        var extra = secondTensors["model.norm.weight"];
        var firstTensors = SafeTensorsFile.ReadAll(first).Values.Append(extra).ToList();
        SafeTensorsWriter.Write(first, firstTensors);
        var e = Assert.Throws<CheckpointFormatException>(() => ModelDirectory.Open(_dir.Path));
        Assert.Equal($"{first}: holds tensor 'model.norm.weight', which model.safetensors.index.json places in model-00002-of-00002.safetensors: the tensor is stored twice", e.Message);
    }

    /// <summary>Runs <paramref name="body"/> off the test thread and fails if it has not returned in time (a read that blocks forever).</summary>
    internal static async Task<T> WithinSeconds<T>(int seconds, Func<T> body)
    {
        var ct = TestContext.Current.CancellationToken;
        var run = Task.Run(body, ct);
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(seconds), ct)));
        return await run;
    }

    internal static void MakeFifo(string path)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "FIFOs are a POSIX file type");
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>The native fixture with its tensors and params.json edited, plus its tokenizer.</summary>
    internal static void WriteNativeCopy(string folder, Func<IEnumerable<HostTensor>, IEnumerable<HostTensor>> tensors,
        Action<Dictionary<string, object?>>? config = null)
    {
        var all = SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors"));
        SafeTensorsWriter.Write(Path.Combine(folder, "consolidated.safetensors"), tensors(all.Values).ToList());
        var json = JsonSerializer.Deserialize<Dictionary<string, object?>>(File.ReadAllText(Path.Combine(Fixtures.TinyNative, "params.json")))!;
        config?.Invoke(json);
        File.WriteAllText(Path.Combine(folder, "params.json"), JsonSerializer.Serialize(json));
        File.Copy(Path.Combine(Fixtures.TinyNative, "tokenizer.model"), Path.Combine(folder, "tokenizer.model"));
    }

    internal static HostTensor WithValue(HostTensor t, int index, float value)
    {
        var values = t.ToFloat32();
        values[index] = value;
        return HostTensor.FromFloat32(t.Name, values, t.Shape, t.DType);
    }

    /// <summary>The first rows of a [V, D] tensor, or more rows (filled with fill(row), else zeros).</summary>
    private static HostTensor Rows(HostTensor t, int rows, Func<int, float>? fill = null)
    {
        int dim = t.Shape.Dims[1], have = t.Shape.Dims[0];
        var values = t.ToFloat32();
        var result = new float[rows * dim];
        values.AsSpan(0, Math.Min(have, rows) * dim).CopyTo(result);
        for (int r = have; r < rows; r++)
            result.AsSpan(r * dim, dim).Fill(fill?.Invoke(r) ?? 0f);
        return HostTensor.FromFloat32(t.Name, result, new Shape(rows, dim), t.DType);
    }
}
