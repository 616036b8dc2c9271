using Mistral.Cli;

return CliRoot.Build().Parse(args).Invoke();
