using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

public sealed class InfoCommandTests
{
    [Fact]
    public void Native_fixture_shows_layout_config_parameters_dtype_and_bytes()
    {
        var result = CliRunner.Run("info", Fixtures.TinyNative);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Empty(result.Err);
        var lines = result.OutLines;
        Assert.Contains("layout          native (consolidated.safetensors)", lines);
        // 2 layers × (wq 64·64 + wk 32·64 + wv 32·64 + wo 64·64 + 3 · 176·64 + 2 · 64) + 2 · 32000·64 + 64, counted by hand.
        Assert.Contains("parameters      4,188,480 (4.19 M)", lines);
        Assert.Contains("dtype           BF16", lines);
        Assert.Contains("on disk         8,379,008 bytes (7.99 MiB) in 1 weight file(s)", lines);
        Assert.Contains($"tokenizer       {Path.Combine(Fixtures.TinyNative, "tokenizer.model")}", lines);
        Assert.Contains("n_kv_heads      2", lines);
        Assert.Contains("sliding_window  16", lines);
        Assert.Contains("rope_theta      10000", lines);
        Assert.Contains("context         not stated", lines);
    }

    [Fact]
    public void Hf_and_pth_fixtures_name_their_layout()
    {
        var hf = CliRunner.Run("info", Fixtures.TinyHf);
        Assert.True(hf.ExitCode == 0, hf.ToString());
        Assert.Contains("layout          Hugging Face (model.safetensors)", hf.OutLines);
        Assert.Contains("context         32768", hf.OutLines);
        Assert.Contains("parameters      4,188,480 (4.19 M)", hf.OutLines);

        var pth = CliRunner.Run("info", Fixtures.TinyNativePth);
        Assert.True(pth.ExitCode == 0, pth.ToString());
        Assert.Contains("layout          native (consolidated.00.pth, torch.save)", pth.OutLines);
    }

    [Fact]
    public void Missing_directory_is_one_line_naming_the_path_and_exit_code_2()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-model-{Guid.NewGuid():N}");
        var result = CliRunner.Run("info", path);
        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Out);
        Assert.Equal([$"error: {path}: model directory not found"], result.ErrLines);
    }

    [Fact]
    public void Truncated_weights_are_one_line_naming_the_file_and_exit_code_2()
    {
        var dir = Directory.CreateTempSubdirectory("mistral-cli-info-").FullName;
        try
        {
            File.Copy(Path.Combine(Fixtures.TinyNative, "params.json"), Path.Combine(dir, "params.json"));
            var weights = File.ReadAllBytes(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors"));
            var truncated = Path.Combine(dir, "consolidated.safetensors");
            File.WriteAllBytes(truncated, weights[..1000]);
            var result = CliRunner.Run("info", dir);
            Assert.Equal(2, result.ExitCode);
            var line = Assert.Single(result.ErrLines);
            Assert.StartsWith($"error: {truncated}: safetensors header length 2040 runs past the end of the file (1000 bytes): truncated", line);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Unsupported_model_type_is_one_line_naming_it_and_exit_code_2()
    {
        var dir = Directory.CreateTempSubdirectory("mistral-cli-info-").FullName;
        try
        {
            var config = File.ReadAllText(Path.Combine(Fixtures.TinyHf, "config.json")).Replace("\"model_type\": \"mistral\"", "\"model_type\": \"llama\"");
            File.WriteAllText(Path.Combine(dir, "config.json"), config);
            File.Copy(Path.Combine(Fixtures.TinyHf, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
            var result = CliRunner.Run("info", dir);
            Assert.Equal(2, result.ExitCode);
            var line = Assert.Single(result.ErrLines);
            Assert.StartsWith($"error: {Path.Combine(dir, "config.json")}: field 'model_type' is 'llama', which this engine does not run (supported: ", line);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Garbage_tokenizer_is_reported_as_unreadable_with_the_reason_and_exit_code_2()
    {
        var dir = Directory.CreateTempSubdirectory("mistral-cli-info-").FullName;
        try
        {
            foreach (var name in new[] { "params.json", "consolidated.safetensors" })
                File.Copy(Path.Combine(Fixtures.TinyNative, name), Path.Combine(dir, name));
            var tokenizer = Path.Combine(dir, "tokenizer.model");
            File.WriteAllBytes(tokenizer, [0x0A, 0x05, 0x68, 0x65]); // a protobuf field that runs past the end
            var result = CliRunner.Run("info", dir);
            Assert.Equal(2, result.ExitCode);
            var reported = Assert.Single(result.OutLines, l => l.StartsWith("tokenizer", StringComparison.Ordinal));
            Assert.StartsWith($"tokenizer       unreadable: {tokenizer}: ", reported);
            Assert.Contains("parameters      4,188,480 (4.19 M)", result.OutLines); // the rest is still shown
            Assert.Equal($"error: {reported["tokenizer       unreadable: ".Length..]}", Assert.Single(result.ErrLines));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Tokenizer_vocabulary_is_shown_next_to_the_embedding_rows()
    {
        var result = CliRunner.Run("info", Fixtures.TinyNative);
        Assert.Contains("vocabulary      32000 ids", result.OutLines);
    }

    [Fact]
    public void Verbose_adds_the_stack_trace()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-model-{Guid.NewGuid():N}");
        var result = CliRunner.Run("info", path, "--verbose");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("CheckpointFormatException", result.Err);
        Assert.True(result.ErrLines.Length > 2, result.ToString());
    }
}
