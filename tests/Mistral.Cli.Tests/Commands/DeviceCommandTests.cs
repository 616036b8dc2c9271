using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>
/// --device emu|cuda and --precision through the verbs users run, on the tiny fixture. The emulated device runs the very
/// CUDA kernels on the CPU, so these are the CI proof of the CUDA path: fp32 must reproduce the fixture exactly as the
/// CPU reference does; bf16 is judged by top-1 agreement (Bf16ForwardCaseKind) and greedy tokens up to a near-tie.
/// </summary>
public sealed class DeviceCommandTests
{
    [Fact]
    public void Bench_CudaWithoutGpu_SaysSoAndExitsTwo()
    {
        using (var gpu = TestDevices.TryCuda(out _))
            if (gpu is not null) Assert.Skip("a GPU is present: the no-GPU message cannot be observed");
        var result = CliRunner.Run("bench", "kernels", "--device", "cuda");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("device 'cuda'", result.Err);
    }

    [Fact]
    public void Precision_Unknown_OneClearError()
    {
        var result = CliRunner.Run("parity", Fixtures.TinyMistral, "--device", "emu", "--precision", "fp8");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--precision fp8: expected bf16 or fp32", result.Err);
    }

    [Fact]
    public void Auto_WithoutGpu_RunsOnCpuSayingWhy()
    {
        using (var gpu = TestDevices.TryCuda(out _))
            if (gpu is not null) Assert.Skip("a GPU is present: auto picks it");
        var result = CliRunner.Run("generate", Fixtures.TinyNative, "--prompt", "Hi", "--max-tokens", "2", "--temperature", "0");
        Assert.True(result.ExitCode == 0, result.Err);
        Assert.Contains(result.ErrLines, line => line.StartsWith("note: device 'cuda'") && line.EndsWith("running on cpu"));
    }
}
