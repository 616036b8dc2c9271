using System.Text.Json;
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
    public void Generate_EmuFp32_SameTokensAsCpu()
    {
        // 5 prompt tokens + 20 generated outgrow the 16-slot cache, so the decode kernel reads a wrapped cache.
        string[] Args(string device) => ["generate", Fixtures.TinyNative, "--prompt", "The quick brown fox", "--max-tokens", "20",
            "--temperature", "0", "--json", "--device", device, "--precision", "fp32"];
        var cpu = CliRunner.Run(Args("cpu"));
        var emu = CliRunner.Run(Args("emu"));
        Assert.True(cpu.ExitCode == 0, cpu.Err);
        Assert.True(emu.ExitCode == 0, emu.Err);
        var cpuIds = Ids(cpu.Out);
        Assert.Equal(20, cpuIds.Length);
        Assert.Equal(cpuIds, Ids(emu.Out));
    }

    [Fact]
    public void Parity_EmuFp32_EveryPublicCasePasses()
    {
        var result = CliRunner.Run("parity", Fixtures.TinyMistral, "--device", "emu", "--precision", "fp32");
        Assert.True(result.ExitCode == 0, result.Out + result.Err);
        foreach (var kind in new[] { "forward", "forward_debug", "greedy", "lora_train" })
            Assert.Contains(result.Out.Split('\n'), line => line.StartsWith("PASS") && line.Contains($" {kind} "));
        Assert.Contains("0 failed", result.Out);
    }

    [Fact]
    public void Parity_EmuBf16_Top1MatchesAndGreedyHoldsUntilANearTie()
    {
        var result = CliRunner.Run("parity", Fixtures.TinyMistral, "--device", "emu", "--precision", "bf16");
        Assert.True(result.ExitCode == 0, result.Out + result.Err);
        var lines = result.Out.Split('\n');
        Assert.Contains(lines, line => line.StartsWith("PASS") && line.Contains("bf16: top-1 match"));
        Assert.Contains(lines, line => line.StartsWith("PASS") && line.Contains(" greedy "));
    }

    [Fact]
    public void BenchKernels_Emu_TimesEveryFamily()
    {
        var result = CliRunner.Run("bench", "kernels", "--device", "emu");
        Assert.True(result.ExitCode == 0, result.Out + result.Err);
        foreach (var kernel in new[] { "rmsnorm_forward", "rope_forward", "swiglu_forward", "gemm w2", "embedding_forward", "argmax",
                                       "kv_cache_append", "attention decode", "attention prefill" })
            Assert.Contains(kernel, result.Out);
    }

    [Fact]
    public void BenchKernels_Emu_DecodeRowsReplayAGraphOrSaySoAndEveryRowRotatesCopies()
    {
        var result = CliRunner.Run("bench", "kernels", "--device", "emu");
        Assert.True(result.ExitCode == 0, result.Out + result.Err);
        var rows = result.Out.Split('\n').Where(line => line.StartsWith("| ") && !line.StartsWith("| kernel") && !line.StartsWith("| ---")).ToList();
        Assert.Equal(21, rows.Count);
        // T = 1 (decode-shaped) rows: a graph replay (the emulator captures as a GPU does), or "(no graph)" on a device that cannot
        var decode = rows.Where(r => r.Contains("| T 1,") || r.Contains("| T 1 ×") || r.Contains("| argmax") || r.Contains("| attention decode")).ToList();
        Assert.Equal(10, decode.Count);
        Assert.All(decode, r => Assert.Matches(@"\| (\(no graph\)|graph) ×\d+ +\|$", r));
        Assert.All(rows.Except(decode), r => Assert.Matches(@"\| launches ×\d+ +\|$", r));
        // the tiny preset rotates up to 3 copies of 64 KiB: the small operands get all three
        Assert.Contains(rows, r => r.Contains(" ×3 "));
    }

    [Fact]
    public void BenchPrefillAndDecode_EmuTinyShape_PrintLlamaBenchRows()
    {
        var prefill = CliRunner.Run("bench", "prefill", "--shape", "tiny", "--device", "emu", "--tokens", "8", "--repetitions", "1");
        Assert.True(prefill.ExitCode == 0, prefill.Out + prefill.Err);
        Assert.Contains("| pp 8 ", prefill.Out);
        var decode = CliRunner.Run("bench", "decode", "--shape", "tiny", "--device", "emu", "--tokens", "4", "--repetitions", "1");
        Assert.True(decode.ExitCode == 0, decode.Out + decode.Err);
        Assert.Contains("| tg 4 ", decode.Out);
    }

    [Fact]
    public void BenchDecode_EmuDepthPastTheWindow_PrefillsWrapsTheCacheAndPrintsTheDepth()
    {
        // tiny's window is 16: a 20-token prompt fills and wraps the rolling cache before the timed steps
        var decode = CliRunner.Run("bench", "decode", "--shape", "tiny", "--device", "emu", "--tokens", "2", "--depth", "1", "20", "--repetitions", "1");
        Assert.True(decode.ExitCode == 0, decode.Out + decode.Err);
        Assert.Contains("| tg 2  ", decode.Out);
        Assert.Contains("| tg 2 @ 20 ", decode.Out);
    }

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
        // One short line (it used to be 370 characters), pointing at an option every device verb accepts.
        var note = Assert.Single(result.ErrLines, line => line.StartsWith("note: ", StringComparison.Ordinal));
        Assert.Matches(@"^note: no GPU found \([^()]+\); using cpu — see --help for --cuda-lib-dir$", note);
        Assert.True(note.Length < 100, note);
        var withLibDir = CliRunner.Run("generate", Fixtures.TinyNative, "--prompt", "Hi", "--max-tokens", "1", "--cuda-lib-dir", Path.GetTempPath());
        Assert.True(withLibDir.ExitCode == 0, withLibDir.Err);
    }

    [Fact]
    public void BenchKernels_DefaultDevice_WithoutGpu_RunsTheEmulatorSayingSo()
    {
        using (var gpu = TestDevices.TryCuda(out _))
            if (gpu is not null) Assert.Skip("a GPU is present: bench kernels times it");
        var result = CliRunner.Run("bench", "kernels");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"^note: no GPU found \([^()]+\); using the emulated device \(a smoke test, not a speed figure\) — see --help for --cuda-lib-dir$", Assert.Single(result.ErrLines));
        Assert.Contains("shape tiny (emulated", result.Out);
    }

    private static int[] Ids(string json) =>
        JsonDocument.Parse(json).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
