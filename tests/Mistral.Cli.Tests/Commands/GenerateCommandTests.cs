using System.Text.Json;
using Mistral.Cli.Console;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Cli.Tests.Commands;

/// <summary>`mistral-cu generate` end to end on the tiny fixture model (random weights: the text is noise, the ids are not).</summary>
public sealed class GenerateCommandTests : IDisposable
{
    /// <summary>Runs on the CPU reference explicitly (the default, auto, would add a note about the missing GPU).</summary>
    private static CliResult Run(params string[] args) => CliRunner.Run(args.Contains("--device") ? args : [.. args, "--device", "cpu"]);

    private readonly string _temp = Directory.CreateTempSubdirectory("mistral-cli-gen-").FullName;
    private const string Prompt = "The capital of France is";

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void Json_GreedyTokens_AreTheArgmaxOfFullCacheFreeForwards()
    {
        // Rescore: the CLI's cached, streamed decode must pick, at every step, the argmax of a one-shot forward of
        // prompt + everything generated so far (26 positions > the 16-slot window, so the cache wraps).
        var run = Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "--temperature", "0", "--max-tokens", "20", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        int[] promptIds = root.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] ids = root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[] logprobs = root.GetProperty("logprobs").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(1, promptIds[0]); // BOS, as mistral-src encodes prompts
        Assert.Equal(ids.Length, logprobs.Length);
        Assert.True(ids.Length == 20 || ids[^1] == 2, "stops only at max tokens or EOS");

        using var ops = new CpuOps();
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);
        Assert.Equal(model.RequireTokenizer().Encode(Prompt, bos: true), promptIds);
        var sequence = promptIds.ToList();
        for (int t = 0; t < ids.Length; t++)
        {
            var logits = new float[sequence.Count * model.Config.VocabSize];
            ops.Download(model.Model.Forward(sequence.ToArray(), AttentionBatch.FromLengths([sequence.Count])), logits);
            var last = logits.AsSpan((sequence.Count - 1) * model.Config.VocabSize);
            Assert.Equal(Sampler.ArgMax(last), ids[t]);
            Assert.Equal(LogSoftmax.LogProb(last, ids[t]), logprobs[t], 1e-5); // two fp32 evaluations of the same sums
            sequence.Add(ids[t]);
        }
        Assert.Equal(model.RequireTokenizer().Decode(ids), root.GetProperty("text").GetString());
        Assert.Equal(promptIds.Length, root.GetProperty("timings").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public void Streaming_PrintsPromptAndContinuation_ThenTheTimingLine()
    {
        var run = Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "0", "-n", "8");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith(Prompt, run.Out);
        var json = Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "0", "-n", "8", "--json");
        Assert.Equal(Prompt + JsonDocument.Parse(json.Out).RootElement.GetProperty("text").GetString() + "\n", run.Out);
        var timing = Assert.Single(run.ErrLines);
        Assert.Matches(@"^prompt: \d+ tokens in [\d.]+ ms \([\d.]+ tok/s\) \| generation: 8 tokens in [\d.]+ ms \([\d.]+ tok/s\) \| seed \d+$", timing);
    }

    [Fact]
    public void Sampling_SameSeedSameText_OtherSeedOtherText()
    {
        string Ids(string seed) => JsonDocument.Parse(Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "1.0",
            "--top-k", "50", "--min-p", "0.01", "--repeat-penalty", "1.1", "-n", "10", "--seed", seed, "--json").Out)
            .RootElement.GetProperty("ids").GetRawText();
        Assert.Equal(Ids("7"), Ids("7"));
        Assert.NotEqual(Ids("7"), Ids("8"));
    }

    [Fact]
    public void StopString_CutsTheTextBeforeIt()
    {
        var full = JsonDocument.Parse(Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "0", "-n", "20", "--json").Out)
            .RootElement.GetProperty("text").GetString()!;
        string stop = full.Substring(full.Length / 2, 3);
        int cut = full.IndexOf(stop, StringComparison.Ordinal);
        var run = Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "0", "-n", "20", "--stop", stop, "--json");
        var root = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal(full[..cut], root.GetProperty("text").GetString());
        Assert.Equal("stop", root.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void PromptFile_IsReadWithoutItsFinalNewline()
    {
        string file = Path.Combine(_temp, "prompt.txt");
        File.WriteAllText(file, Prompt + "\n");
        var fromFile = Run("generate", Fixtures.TinyNative, "--prompt-file", file, "-t", "0", "-n", "4", "--json");
        var fromText = Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "0", "-n", "4", "--json");
        Assert.Equal(JsonDocument.Parse(fromText.Out).RootElement.GetProperty("ids").GetRawText(),
                     JsonDocument.Parse(fromFile.Out).RootElement.GetProperty("ids").GetRawText());
    }

    [Fact]
    public void PromptLongerThanContext_ExitCode2()
    {
        // The HF fixture with max_position_embeddings 8: a model whose context is known and short.
        string dir = Directory.CreateDirectory(Path.Combine(_temp, "short-context")).FullName;
        foreach (var name in new[] { "model.safetensors", "tokenizer.model" })
            File.Copy(Path.Combine(Fixtures.TinyHf, name), Path.Combine(dir, name));
        File.WriteAllText(Path.Combine(dir, "config.json"),
            File.ReadAllText(Path.Combine(Fixtures.TinyHf, "config.json")).Replace("\"max_position_embeddings\": 32768", "\"max_position_embeddings\": 8"));
        var run = Run("generate", dir, "--prompt", "one two three four five six seven eight nine ten");
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("longer than the model's context of 8", Assert.Single(run.ErrLines));
    }

    [Theory]
    [InlineData("--prompt", "")]                                             // empty prompt
    [InlineData("--prompt", "x", "--prompt-file", "p.txt")]                  // both
    [InlineData("-n", "3")]                                                  // no prompt
    [InlineData("--prompt-file", "missing.txt")]
    [InlineData("--prompt", "x", "--device", "tpu")]                         // unknown device
    [InlineData("--prompt", "x", "--top-p", "1.5")]
    [InlineData("--prompt", "x", "--temperature", "-1")]
    [InlineData("--prompt", "x", "--chunk-size", "0")]
    public void BadInput_ExitCode2WithOneLine(params string[] args)
    {
        File.WriteAllText(Path.Combine(_temp, "p.txt"), "hi");
        args = args.Select(a => a.EndsWith(".txt", StringComparison.Ordinal) ? Path.Combine(_temp, a) : a).ToArray();
        var run = Run(["generate", Fixtures.TinyNative, .. args]);
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(run.ErrLines));
        Assert.Empty(run.Out);
    }

    [Fact]
    public void Seed_IsPrintedWithTheTimingLine_AndRepeatsTheRun()
    {
        var first = Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "1.0", "-n", "6");
        var seed = System.Text.RegularExpressions.Regex.Match(Assert.Single(first.ErrLines), @"\| seed (\d+)$").Groups[1].Value;
        Assert.NotEmpty(seed);
        var again = Run("generate", Fixtures.TinyNative, "--prompt", Prompt, "-t", "1.0", "-n", "6", "--seed", seed);
        Assert.Equal(first.Out, again.Out);
    }

    [Fact]
    public void BadArgument_IsReportedBeforeTheNoGpuNote()
    {
        // Default device (auto): on a machine without a GPU the note would come first if the device were opened first.
        var run = CliRunner.Run("generate", Fixtures.TinyNative, "--prompt", "x", "--top-p", "1.5");
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal("error: top-p must be in (0, 1] (1 = off), got 1.5", Assert.Single(run.ErrLines));
    }

    [Fact]
    public void NanWeights_RefusedWithExit2_AndWithAllowNonFiniteJsonWritesNullLogprobs()
    {
        // A NaN in the final norm makes every logit NaN: the model would print garbage with exit 0.
        string dir = Directory.CreateDirectory(Path.Combine(_temp, "nan")).FullName;
        foreach (var name in new[] { "params.json", "tokenizer.model" })
            File.Copy(Path.Combine(Fixtures.TinyNative, name), Path.Combine(dir, name));
        var tensors = SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors")).Values.Select(t =>
        {
            if (t.Name != MistralTensorNames.Norm) return t;
            var values = t.ToFloat32();
            values[7] = float.NaN;
            return HostTensor.FromFloat32(t.Name, values, t.Shape, t.DType);
        });
        SafeTensorsWriter.Write(Path.Combine(dir, "consolidated.safetensors"), tensors.ToList());

        var refused = Run("generate", dir, "--prompt", Prompt, "-n", "2");
        Assert.Equal(ExitCodes.BadInput, refused.ExitCode);
        Assert.Equal($"error: {Path.Combine(dir, "consolidated.safetensors")}: tensor 'norm.weight' holds NaN at element [7] (flat index 7); " +
                     "a model with non-finite weights writes garbage (--allow-nonfinite loads it anyway)", Assert.Single(refused.ErrLines));

        var allowed = Run("generate", dir, "--prompt", Prompt, "-n", "2", "--temperature", "0", "--json", "--allow-nonfinite");
        Assert.True(allowed.ExitCode == ExitCodes.Ok, allowed.ToString());
        using var json = JsonDocument.Parse(allowed.Out);
        Assert.All(json.RootElement.GetProperty("logprobs").EnumerateArray(), lp => Assert.Equal(JsonValueKind.Null, lp.ValueKind));
    }

    [Fact]
    public void MissingModelDirectory_ExitCode2NamingIt()
    {
        string missing = Path.Combine(_temp, "no-such-model");
        var run = Run("generate", missing, "--prompt", "x");
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains(missing, Assert.Single(run.ErrLines));
    }
}
