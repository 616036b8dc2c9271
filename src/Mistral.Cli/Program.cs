using System.CommandLine;
using Mistral.Cli.Commands;

var root = new RootCommand("mistral-cu: run and fine-tune Mistral-architecture models with its own CUDA kernels");
foreach (var command in Verbs.All())
    root.Subcommands.Add(command);
return root.Parse(args).Invoke();
