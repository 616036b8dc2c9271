using Mistral.Cli.Console;
using Mistral.Testing;
using Xunit;

namespace Mistral.Cli.Tests.Commands;

/// <summary>
/// A command line that does not parse: exit 2 like every bad input (1 means a check failed), one line in the user's
/// words with a pointer to --help, never a .NET type name.
/// </summary>
public sealed class UsageErrorTests
{
    [Theory]
    [InlineData("option '--seed': '-1' is not a whole number >= 0 (see 'mistral-cu generate --help')", "generate", "MODEL", "-p", "x", "--seed", "-1")]
    [InlineData("option '--max-tokens': 'many' is not a whole number (see 'mistral-cu generate --help')", "generate", "MODEL", "-p", "x", "-n", "many")]
    [InlineData("option '--temperature': 'hot' is not a number (see 'mistral-cu generate --help')", "generate", "MODEL", "-p", "x", "--temperature", "hot")]
    [InlineData("Unrecognized command or argument '--bogus' (see 'mistral-cu generate --help')", "generate", "MODEL", "--bogus")]
    [InlineData("Required argument 'MODEL' missing for command: 'generate' (see 'mistral-cu generate --help')", "generate")]
    [InlineData("Unrecognized command or argument 'frobnicate' (see 'mistral-cu --help')", "frobnicate")]
    [InlineData("Required command was not provided (see 'mistral-cu bench --help')", "bench")]
    public void ParseError_ExitCode2_OneLineWithoutTypeNames(string expected, params string[] args)
    {
        args = args.Select(a => a == "MODEL" ? Fixtures.TinyNative : a).ToArray();
        var run = CliRunner.Run(args);
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal($"error: {expected}", Assert.Single(run.ErrLines));
        Assert.DoesNotContain("System.", run.Err);
        Assert.Empty(run.Out);
    }

    [Fact]
    public void Help_IsNotAnError()
    {
        var run = CliRunner.Run("generate", "--help");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("--allow-nonfinite", run.Out);
    }
}
