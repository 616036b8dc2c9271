using System.CommandLine;

namespace Mistral.Cli.Tests;

/// <summary>What one in-process run of mistral-cu produced.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";
}

/// <summary>
/// Runs mistral-cu in-process exactly as Program.cs does (same root command, same verbs) and captures stdout/stderr.
/// Verbs write to the invocation's Output/Error (ErrorReporter does); System.Console is redirected too, for anything
/// that writes there directly. Console is process-global, so runs are serialized.
/// </summary>
public static class CliRunner
{
    private static readonly Lock ConsoleLock = new();

    public static CliResult Run(params string[] args) => RunWithInput("", args);

    /// <summary>The same, with <paramref name="stdin"/> as standard input (chat).</summary>
    public static CliResult RunWithInput(string stdin, params string[] args)
    {
        lock (ConsoleLock)
        {
            var (savedIn, savedOut, savedErr) = (System.Console.In, System.Console.Out, System.Console.Error);
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            try
            {
                System.Console.SetIn(new StringReader(stdin));
                System.Console.SetOut(stdout);
                System.Console.SetError(stderr);
                var config = new InvocationConfiguration { Output = stdout, Error = stderr };
                int exit = CliRoot.Run(args, config);
                return new CliResult(exit, stdout.ToString().Replace("\r\n", "\n"), stderr.ToString().Replace("\r\n", "\n"));
            }
            finally
            {
                System.Console.SetIn(savedIn);
                System.Console.SetOut(savedOut);
                System.Console.SetError(savedErr);
            }
        }
    }
}
