using System.Text.Json;
using Xunit;

namespace Mistral.Cli.Tests;

/// <summary>
/// What the CLI ships: its deps.json (copied here from the CLI's build) lists every library that lands in the CLI's
/// output folder. Test code must not be among them: dependencies point from tests to the product, never back.
/// </summary>
public sealed class ShippedAssembliesTests
{
    [Fact]
    public void DepsJson_CliOutput_ListsNoTestAssembly()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "mistral-cu.deps.json");
        Assert.True(File.Exists(path), $"{path} not found: the CLI's deps.json is copied beside its referencing test project");
        using var deps = JsonDocument.Parse(File.ReadAllText(path));
        var libraries = deps.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name.Split('/')[0]).ToArray();
        Assert.Contains("Mistral.Kernels.Checks", libraries); // the file is the CLI's, with the selftest library in it
        var testCode = libraries.Where(IsTestCode).ToArray();
        Assert.True(testCode.Length == 0, $"the CLI's output would hold test assemblies: {string.Join(", ", testCode)}");
    }

    private static bool IsTestCode(string library) =>
        library.StartsWith("xunit", StringComparison.OrdinalIgnoreCase)
        || library.StartsWith("Microsoft.Testing.", StringComparison.OrdinalIgnoreCase)
        || library.StartsWith("Microsoft.NET.Test.", StringComparison.OrdinalIgnoreCase)
        || library.StartsWith("Mistral.Testing", StringComparison.Ordinal)
        || library.EndsWith(".Tests", StringComparison.Ordinal);
}
