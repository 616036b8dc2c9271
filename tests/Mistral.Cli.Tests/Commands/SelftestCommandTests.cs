using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>`mistral-cu selftest`: the kernel sweep from the command line, its table and its exit codes.</summary>
public sealed class SelftestCommandTests
{
    [Fact]
    public void Emu_RmsNormCases_AllPassExitZero()
    {
        var r = CliRunner.Run("selftest", "--device", "emu", "--filter", "rmsnorm", "--cache-dir", TestDevices.CacheDirectory);
        Assert.True(r.ExitCode == 0, r.ToString());
        var rows = r.OutLines.Where(l => l.StartsWith("rmsnorm_", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(rows);
        Assert.All(rows, row => Assert.EndsWith("PASS", row));
        Assert.Contains(r.OutLines, l => l.StartsWith($"{rows.Length} passed, 0 failed", StringComparison.Ordinal));
        Assert.Contains(r.OutLines, l => l.StartsWith("device", StringComparison.Ordinal) && l.Contains("emu"));
    }

    [Fact]
    public void Emu_BrokenKernelFromKernelsDir_FailsExitOne()
    {
        // A copy of kernels/ whose RMSNorm forward is off by 1%: the sweep must notice and say which case.
        var kernels = CopyKernels();
        var path = Path.Combine(kernels, "cu", "rmsnorm.cu");
        var source = File.ReadAllText(path);
        var broken = source.Replace("v[k] = v[k] * s * w[k];", "v[k] = v[k] * s * w[k] * 1.01f;")
                           .Replace("yr[d] = from_f32<T>(to_f32(xr[d]) * s * to_f32(weight[d]));", "yr[d] = from_f32<T>(to_f32(xr[d]) * s * to_f32(weight[d]) * 1.01f);");
        Assert.NotEqual(source, broken);
        File.WriteAllText(path, broken);

        CliResult r;
        try
        {
            r = CliRunner.Run("selftest", "--kernels-dir", kernels, "--filter", "rmsnorm_forward f32", "--cache-dir", TestDevices.CacheDirectory);
        }
        finally
        {
            Directory.Delete(kernels, recursive: true);
        }

        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains(r.OutLines, l => l.StartsWith("rmsnorm_forward", StringComparison.Ordinal) && l.EndsWith("FAIL"));
        Assert.Contains(r.OutLines, l => l.Contains("0 passed,"));
    }

    [Fact]
    public void Cuda_NoGpuOrDriver_OneClearErrorExitTwo()
    {
        using (var cuda = TestDevices.TryCuda(out _))
            if (cuda is not null) Assert.Skip("a CUDA device is present here");
        var r = CliRunner.Run("selftest", "--device", "cuda", "--cache-dir", TestDevices.CacheDirectory);
        Assert.Equal(2, r.ExitCode);
        var error = Assert.Single(r.ErrLines);
        Assert.StartsWith("error: ", error);
        Assert.True(error.Contains("libcuda") || error.Contains("no GPU"), error);
    }

    private static string CopyKernels()
    {
        var source = RepositoryKernels();
        var target = Path.Combine(Path.GetTempPath(), $"mistral-cu-kernels-{Guid.NewGuid():N}");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
        return target;
    }

    private static string RepositoryKernels()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kernels", "emu", "cuda_emu.h"))) return Path.Combine(dir.FullName, "kernels");
        throw new DirectoryNotFoundException($"kernels/ not found above {AppContext.BaseDirectory}");
    }
}
