using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>`mistral-cu bench train`: a smoke run on the emulator (tiny shape) in both precisions, and the no-GPU exit.</summary>
public sealed class BenchTrainCommandTests
{
    [Theory]
    [InlineData("fp32", "F32")]
    [InlineData("bf16", "BF16")]
    public void TinyShapeOnEmu_PrintsTokensPerSecondAndPeakMemory(string precision, string dtype)
    {
        var run = CliRunner.Run("bench", "train", "--shape", "tiny", "--device", "emu", "--precision", precision, "--seq-len", "24", "-r", "1");
        Assert.True(run.ExitCode == 0, run.Out + run.Err);
        Assert.Contains($"device: emulated (host CPU), {dtype}, shape tiny", run.Out);
        Assert.Matches(@"train tiny \(random\) on emu: seq 24, LoRA r16 on wq wk wv wo w1 w2 w3 \+ norms: \d+\.\d ± \d+\.\d tok/s, peak device memory \d+\.\d\d GiB, loss \d+\.\d{4}", run.Out);
    }

    // Full-parameter training (train's step) of the tiny shape: tokens/s, MFU n/a (the emulator has no peak), memory.
    [Fact]
    public void ModelTinyOnEmu_FullParameter_PrintsTokensPerSecondMfuAndPeakMemory()
    {
        var run = CliRunner.Run("bench", "train", "--model", "tiny", "--device", "emu", "--precision", "fp32", "--seq-len", "16", "--batch", "2", "-r", "1");
        Assert.True(run.ExitCode == 0, run.Out + run.Err);
        Assert.Contains("device: emulated (host CPU), F32, model tiny", run.Out);
        Assert.Matches(@"train tiny \(random\) on emu: full-parameter AdamW, 2 × 16 tokens per step: \d+\.\d ± \d+\.\d tok/s, MFU n/a, peak device memory \d+\.\d\d GiB, loss \d+\.\d{4}", run.Out);
    }

    [Fact]
    public void DefaultDeviceWithoutGpu_SaysSoAndExitsTwo()
    {
        using (var gpu = TestDevices.TryCuda(out _))
            if (gpu is not null) Assert.Skip("a GPU is present: the no-GPU message cannot be observed");
        var run = CliRunner.Run("bench", "train", "--shape", "7b");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("device 'cuda'", run.Err);
    }
}
