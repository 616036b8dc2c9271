using Mistral.Kernels.Compile;
using Mistral.Kernels.Device.Emulation;
using Xunit;

namespace Mistral.Kernels.Tests.Compile;

/// <summary>The embedded kernel sources, entry-point discovery, the emulator's source rewrite and the cache key.</summary>
public sealed class KernelSourcesTests
{
    [Fact]
    public void Embedded_EveryRepositoryKernelFile_IsThereByteForByte()
    {
        var root = RepositoryKernels();
        var sources = KernelSources.Embedded();
        var onDisk = Directory.EnumerateFiles(Path.Combine(root, "cu"), "*.cu", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Path.Combine(root, "cu"), p).Replace('\\', '/')).Order().ToArray();
        Assert.Equal(onDisk, sources.Files.Select(f => f.Name).Order().ToArray());
        foreach (var file in sources.Files)
            Assert.Equal(File.ReadAllText(Path.Combine(root, "cu", file.Name)), file.Text);
        Assert.Contains("common/common.cuh", sources.Headers.Keys);
        Assert.Equal(File.ReadAllText(Path.Combine(root, "emu", "cuda_emu.h")), sources.EmulationHeader);
    }

    [Fact]
    public void Embedded_KernelNames_MapToTheirFile()
    {
        var sources = KernelSources.Embedded();
        Assert.Equal("rmsnorm.cu", sources.FileOf("rmsnorm_forward_bf16").Name);
        var e = Assert.Throws<KeyNotFoundException>(() => sources.FileOf("no_such_kernel"));
        Assert.Contains("no kernel named no_such_kernel", e.Message);
    }

    [Fact]
    public void EntryPoints_LaunchBoundsAndComments_FoundOrIgnored()
    {
        const string text = """
            extern "C" __global__ void plain(float* x) {}
            extern "C" __global__ __launch_bounds__(256) void bounded_before(float* x) {}
            extern "C" __global__ void __launch_bounds__(128, 2) bounded_after(float* x) {}
            // extern "C" __global__ void commented_out(float* x) {}
            /* extern "C" __global__ void block_commented(float* x) {} */
            __global__ void not_extern_c(float* x) {}
            """;
        Assert.Equal(["plain", "bounded_before", "bounded_after"], KernelFile.FindEntryPoints(text));
    }

    [Fact]
    public void RewriteDynamicShared_ExternSharedArray_BecomesPointerOnSameLine()
    {
        var rewritten = EmulatorBuild.RewriteDynamicShared("a;\n    extern __shared__ __align__(16) float tile[];\nb;");
        Assert.Equal("a;\n    float* tile = reinterpret_cast<float*>(emu::dynamic_shared());\nb;", rewritten);
    }

    [Fact]
    public void CacheKey_ChangesWithHeaderTargetAndVersion()
    {
        var sources = KernelSources.Embedded();
        var file = sources.FileOf("rmsnorm_forward_f32");
        var key = KernelCache.Key(sources, file, CompileTarget.Ptx(80), "12.4");
        Assert.Equal(key, KernelCache.Key(sources, file, CompileTarget.Ptx(80), "12.4"));
        Assert.NotEqual(key, KernelCache.Key(sources, file, CompileTarget.Ptx(90), "12.4"));
        Assert.NotEqual(key, KernelCache.Key(sources, file, CompileTarget.Ptx(80), "12.5"));
        var copy = CopyWithEditedHeader();
        try
        {
            var edited = KernelSources.FromDirectory(copy);
            Assert.NotEqual(key, KernelCache.Key(edited, edited.FileOf("rmsnorm_forward_f32"), CompileTarget.Ptx(80), "12.4"));
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static string CopyWithEditedHeader()
    {
        var source = RepositoryKernels();
        var target = Path.Combine(Path.GetTempPath(), $"mistral-cu-kernels-{Guid.NewGuid():N}");
        foreach (var path in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, path));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(path, destination);
        }
        File.AppendAllText(Path.Combine(target, "cu", "common", "bf16.cuh"), "\n// edited\n");
        return target;
    }

    private static string RepositoryKernels()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kernels", "emu", "cuda_emu.h"))) return Path.Combine(dir.FullName, "kernels");
        throw new DirectoryNotFoundException($"kernels/ not found above {AppContext.BaseDirectory}");
    }
}
