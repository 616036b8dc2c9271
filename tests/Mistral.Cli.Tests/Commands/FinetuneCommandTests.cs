using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>`finetune`, `merge` and `plot` end to end on the tiny fixture model, and their bad inputs (one line, exit 2).</summary>
public sealed class FinetuneCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("finetune-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string ExampleConfig => Path.Combine(Fixtures.Root, "..", "..", "examples", "finetune", "tiny.yaml");

    private string WriteConfig(string yaml)
    {
        var path = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void Finetune_MergePlotAndGenerate_EndToEnd()
    {
        var run = Path.Combine(_dir, "run");
        var train = CliRunner.Run("finetune", ExampleConfig, "--set", $"run_dir={run}", "--set", "max_steps=3", "--set", "eval_freq=3", "--device", "cpu");
        Assert.True(train.ExitCode == 0, train.ToString());
        Assert.Contains(train.OutLines, l => l.StartsWith("step     3/3 | loss", StringComparison.Ordinal));
        Assert.Contains(train.OutLines, l => l.StartsWith("step     3/3 | eval loss", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(run, "merged", "consolidated.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "step_3", "lora.safetensors")));

        var merged = Path.Combine(_dir, "merged-again");
        var merge = CliRunner.Run("merge", run, "--output", merged);
        Assert.True(merge.ExitCode == 0, merge.ToString());
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "merged", "consolidated.safetensors")),
            File.ReadAllBytes(Path.Combine(merged, "consolidated.safetensors")));

        var plot = CliRunner.Run("plot", run);
        Assert.True(plot.ExitCode == 0, plot.ToString());
        var svg = File.ReadAllText(Path.Combine(run, "loss.svg"));
        Assert.StartsWith("<svg", svg);
        Assert.Contains("train loss", svg);
        Assert.Contains("eval loss", svg);

        var generate = CliRunner.Run("generate", merged, "--prompt", "What color is the sky?", "--max-tokens", "4", "--temperature", "0");
        Assert.True(generate.ExitCode == 0, generate.ToString());
        Assert.StartsWith("What color is the sky?", generate.Out);
    }

    [Theory]
    [InlineData("data: {instruct_data: missing.jsonl}\ninitial_model_path: m\nrun_dir: r\n", "missing.jsonl")]
    [InlineData("data: {instruct_data: d.jsonl}\ninitial_model_path: m\nrun_dir: r\nseq_len: 1\n", "seq_len: must be at least 2")]
    [InlineData("data: {instruct_data: d.jsonl}\ninitial_model_path: m\nrun_dir: r\noptim: {lr: [1}\n", "not valid YAML")]
    [InlineData("data: {instruct_data: d.jsonl}\ninitial_model_path: m\nrun_dir: r\nlora: {rnak: 4}\n", "lora.rnak: unknown key")]
    public void Finetune_BadInput_OneClearLineAndExit2(string yaml, string fragment)
    {
        var config = WriteConfig(yaml.Replace("initial_model_path: m", $"initial_model_path: {Fixtures.TinyNative}"));
        File.WriteAllText(Path.Combine(_dir, "d.jsonl"), "{\"interactions\": [{\"is_user\": false, \"text\": \"hi\"}]}\n");
        var result = CliRunner.Run("finetune", config, "--device", "cpu");
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.ErrLines);
        Assert.Contains(fragment, result.Err);
    }

    [Fact]
    public void Finetune_BadJsonl_NamesFileAndLine()
    {
        File.WriteAllText(Path.Combine(_dir, "d.jsonl"), "{\"interactions\": [{\"is_user\": false, \"text\": \"hi\"}]}\n{not json\n");
        var config = WriteConfig($"data: {{instruct_data: d.jsonl}}\ninitial_model_path: {Fixtures.TinyNative}\nrun_dir: r\n");
        var result = CliRunner.Run("finetune", config, "--device", "cpu");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("d.jsonl:2: not valid JSON", result.Err);
    }

    [Fact]
    public void Finetune_AdapterShapeMismatch_NamesTheInitFileAndTensor()
    {
        File.WriteAllText(Path.Combine(_dir, "d.jsonl"), "{\"interactions\": [{\"is_user\": false, \"text\": \"hi\"}]}\n");
        // The fixture's init adapters have rank 4; asking for rank 8 must fail on the first tensor, naming the file.
        var init = Path.Combine(Fixtures.TinyLora, "init.safetensors");
        var config = WriteConfig($"data: {{instruct_data: d.jsonl}}\ninitial_model_path: {Fixtures.TinyNative}\nrun_dir: r\nlora: {{rank: 8, init_file: {init}}}\n");
        var result = CliRunner.Run("finetune", config, "--device", "cpu");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("init.safetensors", result.Err);
        Assert.Contains("has shape [4, 64], the model and lora.rank need [8, 64]", result.Err);
    }

    [Fact]
    public void Parity_LoraTrain_PassesOnTheEmulatedDeviceInFp32()
    {
        // The same training step on the CUDA kernels (emulated): loss, all 33 gradients, 5 AdamW steps, merged wq.
        var result = CliRunner.Run("parity", Fixtures.TinyMistral, "--device", "emu", "--precision", "fp32", "--case", "lora_train");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^PASS\s+lora_train\s+lora_train\s+max_abs_diff \d\.\d\de-0\d\s+tol 1e-05\s", result.OutLines[0]);
    }

    [Fact]
    public void Merge_NotARun_Exit2()
    {
        var result = CliRunner.Run("merge", _dir, "--output", Path.Combine(_dir, "out"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("neither a training checkpoint", result.Err);
    }
}
