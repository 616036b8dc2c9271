using System.CommandLine;
using System.CommandLine.Invocation;
using Mistral.Cli.Commands;
using Mistral.Cli.Console;

namespace Mistral.Cli;

/// <summary>The root command with every verb: what Program.cs runs and what the CLI tests invoke in-process.</summary>
internal static class CliRoot
{
    public static RootCommand Build()
    {
        var root = new RootCommand("mistral-cu: run and fine-tune Mistral-architecture models with its own CUDA kernels");
        root.Options.Add(ErrorReporter.Verbose);
        root.Options.Add(CommonOptions.CudaLibDir);
        foreach (var command in Verbs.All())
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>
    /// Parses and runs one command line: what Program.cs does and what the CLI tests do in-process. A line that does
    /// not parse gets one line and exit 2 (<see cref="UsageErrors"/>); help and the verbs run as System.CommandLine
    /// runs them (each verb maps its own errors through <see cref="ErrorReporter"/>).
    /// </summary>
    public static int Run(string[] args, InvocationConfiguration? configuration = null)
    {
        configuration ??= new InvocationConfiguration();
        var parse = Build().Parse(args);
        if (parse.Action is ParseErrorAction)
            return UsageErrors.Report(parse, configuration.Error);
        return parse.Invoke(configuration);
    }
}
