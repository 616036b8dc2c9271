using Mistral.Kernels.Compile;
using Mistral.Kernels.Native;
using Mistral.Kernels.Tests.Emulation;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Compile;

/// <summary>
/// Every kernels/cu file (and the emulator's probe kernels) compiles with the real NVRTC for compute_80 and
/// compute_90, and for sm_90a where NVRTC is 12.x or newer: catches code the emulator's g++ accepts but CUDA would
/// not. Needs no GPU. Skips with the reason where no libnvrtc is installed (.ci/install-nvrtc installs one).
/// </summary>
public sealed class AllKernelsCompileTests
{
    public static TheoryData<string, string> FilesAndTargets()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Sources().Files)
            foreach (var target in new[] { "compute_80", "compute_90", "sm_90a" })
                data.Add(file.Name, target);
        return data;
    }

    [Theory]
    [MemberData(nameof(FilesAndTargets))]
    public void Compile_KernelFile_Succeeds(string fileName, string target)
    {
        TestDevices.ConfigureNativeLibraries();
        if (!NativeLibraryLoader.TryLoad(LibNvrtc.Library, out var reason)) Assert.Skip(reason);
        var version = KernelCompiler.Version();
        if (target == "sm_90a" && int.Parse(version.Split('.')[0]) < 12)
            Assert.Skip($"NVRTC {version} predates sm_90a (needs 12.0+)");

        var sources = Sources();
        var file = sources.Files.Single(f => f.Name == fileName);
        // Through the on-disk cache: its key covers the file, every header, the options, the target and the NVRTC
        // version, so a hit means these very bytes compiled before (a fresh clone, as in CI, compiles everything).
        var compiled = new KernelCache(TestDevices.CacheDirectory, new KernelCompiler()).GetOrCompile(sources, file, new CompileTarget(target));

        Assert.NotEmpty(compiled.Image);
        if (!compiled.Target.IsCubin)
        {
            var ptx = System.Text.Encoding.UTF8.GetString(compiled.Image);
            foreach (var entry in file.EntryPoints)
                Assert.Contains($".entry {entry}(", ptx); // extern "C": the entry keeps its plain name
        }
    }

    [Fact]
    public void Compile_SyntaxError_ReportsFileAndLine()
    {
        TestDevices.ConfigureNativeLibraries();
        if (!NativeLibraryLoader.TryLoad(LibNvrtc.Library, out var reason)) Assert.Skip(reason);
        var broken = new KernelFile("broken.cu", "#include \"common/common.cuh\"\nextern \"C\" __global__ void broken(float* x) {\n  x[0] = undefined_name;\n}\n");
        var sources = KernelSources.Embedded().WithFiles(broken);
        var e = Assert.Throws<CudaCompileException>(() => new KernelCompiler().Compile(sources, broken, CompileTarget.Ptx(80)));
        Assert.Contains("broken.cu:3:", e.Message);
        Assert.Contains("undefined_name", e.Message);
    }

    private static KernelSources Sources() => KernelSources.Embedded().WithFiles(ProbeDevice.ProbeFile());
}
