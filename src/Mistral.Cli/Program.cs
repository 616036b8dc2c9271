using System.CommandLine;
using Mistral.Cli.Commands;
using Mistral.Cli.Console;

var root = new RootCommand("mistral-cu: run and fine-tune Mistral-architecture models with its own CUDA kernels");
root.Options.Add(ErrorReporter.Verbose);
foreach (var command in Verbs.All())
    root.Subcommands.Add(command);
return root.Parse(args).Invoke();
