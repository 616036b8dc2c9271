using Mistral.Cli;

return CliRoot.Run(args);
