using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>serve refuses bad settings with one line and exit 2; bench serve runs its bounded load on loopback and prints the table.</summary>
public sealed class ServeCommandTests
{
    [Theory]
    [InlineData("--host", "not-an-address", "--host not-an-address is not an IP address")]
    [InlineData("--max-batch", "0", "--max-batch must be > 0")]
    [InlineData("--prefill-chunk", "0", "prefill chunk must be > 0")]
    public void Serve_BadSetting_OneLineAndExit2(string option, string value, string fragment)
    {
        var run = CliRunner.Run("serve", Fixtures.TinyNative, option, value, "--port", "0", "--device", "cpu");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(fragment, run.Err);
        Assert.DoesNotContain("   at ", run.Err);
    }

    [Fact]
    public void BenchServe_TinyModel_PrintsOneRowPerConcurrency()
    {
        var run = CliRunner.Run("bench", "serve", Fixtures.TinyNative, "-c", "1", "3", "--requests", "3", "-n", "4", "--device", "cpu");
        Assert.True(run.ExitCode == 0, run.ToString());
        var rows = run.Out.Split('\n').Where(l => l.StartsWith("| ") && char.IsDigit(l.TrimStart('|', ' ')[0])).ToList();
        Assert.Equal(2, rows.Count);
        Assert.StartsWith("|           1 |        3 |", rows[0]);
        Assert.StartsWith("|           3 |        3 |", rows[1]);
    }
}
