using Mistral.Kernels.Compile;
using Mistral.Kernels.Native;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Compile;

/// <summary>
/// Every entry point of every kernels/cu file, compiled by NVRTC 12.x (.ci/install-nvrtc installs 12.4) to an sm_90
/// CUBIN with ptxas's verbose report, stays within the budget written in its file (<see cref="KernelBudget"/>): no
/// spills unless the budget says so, registers and static shared memory at most the stated numbers. Needs no GPU;
/// skips without NVRTC 12+: NVRTC 11.8's sm_90 ptxas never finishes argmax.cu (measured: over 300 s, then a stack
/// overflow on a 1.5 MB thread), and its figures for other architectures are not the ones that matter. The report is
/// printed on failure so the new figures can be read off.
/// </summary>
public sealed class KernelBudgetTests
{
    /// <summary>A real NVRTC 11.8 report (rmsnorm.cu for sm_90, -Xptxas -v), trimmed to two entries.</summary>
    private const string Nvrtc118Log = """
        ptxas info    : 0 bytes gmem
        ptxas info    : Compiling entry function 'rmsnorm_backward_dweight_bf16' for 'sm_90'
        ptxas info    : Function properties for rmsnorm_backward_dweight_bf16
        ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Used 28 registers
        ptxas info    : Compiling entry function 'rmsnorm_forward_f32' for 'sm_90'
        ptxas info    : Function properties for rmsnorm_forward_f32
        ptxas         .     16 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads
        ptxas info    : Used 22 registers, 128 bytes smem, 400 bytes cmem[0]
        """;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in KernelSources.Embedded().Files) data.Add(file.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Resources_KernelFile_WithinBudget(string fileName)
    {
        TestDevices.ConfigureNativeLibraries();
        if (!NativeLibraryLoader.TryLoad(LibNvrtc.Library, out var reason)) Assert.Skip(reason);
        if (KernelCompiler.LoadedVersion().Major < 12)
            Assert.Skip($"NVRTC {KernelCompiler.Version()}: the budgets are sm_90 figures from NVRTC 12+ (set MISTRAL_CU_LIB_DIR to .ci/install-nvrtc's 12.4)");
        var sources = KernelSources.Embedded();
        var file = sources.Files.Single(f => f.Name == fileName);

        var compiled = new KernelCompiler().Compile(sources, file, CompileTarget.Cubin(90), KernelResources.ReportOptions);
        var used = KernelResources.Parse(compiled.Log);
        var budgets = KernelBudget.Parse(file.Text);

        Assert.Equal(file.EntryPoints.Order(StringComparer.Ordinal), used.Select(u => u.Kernel).Order(StringComparer.Ordinal));
        var problems = new List<string>();
        foreach (var kernel in used)
        {
            var budget = budgets.FirstOrDefault(b => b.Matches(kernel.Kernel));
            if (budget is null) problems.Add($"{kernel.Kernel}: no '// budget' line in {file.Name} matches it");
            else problems.AddRange(budget.Violations(kernel));
        }
        Assert.True(problems.Count == 0,
            $"NVRTC {KernelCompiler.Version()}, sm_90:\n{string.Join('\n', problems)}\nreport:\n{string.Join('\n', used)}");
    }

    [Fact]
    public void Parse_Nvrtc118Log_ReadsEveryEntry()
    {
        var used = KernelResources.Parse(Nvrtc118Log);
        Assert.Equal(
            [new KernelResources("rmsnorm_backward_dweight_bf16", 28, 0, 0, 0, 0), new KernelResources("rmsnorm_forward_f32", 22, 128, 16, 8, 4)],
            used);
    }

    [Fact]
    public void Violations_OverEveryLimit_NamesEach()
    {
        var budget = KernelBudget.Parse("// budget rmsnorm_*: regs<=24 smem<=64\n").Single();
        var used = KernelResources.Parse(Nvrtc118Log)[1];
        Assert.True(budget.Matches("rmsnorm_forward_f32"));
        Assert.False(budget.Matches("rope_forward_f32"));
        Assert.Equal(
            ["rmsnorm_forward_f32: 128 bytes static shared > budget 64", "rmsnorm_forward_f32: 16 bytes stack frame > budget 0",
             "rmsnorm_forward_f32: 8/4 bytes spilled > budget 0"],
            budget.Violations(used));
    }

    [Fact]
    public void Parse_BudgetWithStackAndSpill_ReadsThem()
    {
        var budget = KernelBudget.Parse("  // budget attention_prefill_forward_f32: regs<=255 smem<=34816 stack<=1000 spill<=984\n").Single();
        Assert.Equal(new KernelBudget("attention_prefill_forward_f32", 255, 34816, 1000, 984), budget);
    }

    [Fact]
    public void Parse_StaticSharedOver48KiB_Refused()
    {
        // Static __shared__ is limited to 48 KiB per block on every architecture; more must be dynamic (opt-in).
        var e = Assert.Throws<FormatException>(() => KernelBudget.Parse("// budget x: regs<=32 smem<=49153\n"));
        Assert.Contains("48 KiB", e.Message);
    }

    [Fact]
    public void Parse_BudgetWithoutRegisters_Refused() =>
        Assert.Throws<FormatException>(() => KernelBudget.Parse("// budget x: smem<=0\n"));
}
