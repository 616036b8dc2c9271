using System.CommandLine;
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
        foreach (var command in Verbs.All())
            root.Subcommands.Add(command);
        return root;
    }
}
