using System.CommandLine;

namespace Mistral.Cli.Commands;

/// <summary>Every verb of mistral-cu, in the order `--help` lists them. Each verb lives in its own XxxCommand.cs.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> All() =>
    [
        GenerateCommand.Create(),
        ChatCommand.Create(),
        ServeCommand.Create(),
        DemoCommand.Create(),
        FinetuneCommand.Create(),
        TrainCommand.Create(),
        MergeCommand.Create(),
        EvalCommand.Create(),
        PlotCommand.Create(),
        TokenizeCommand.Create(),
        InfoCommand.Create(),
        ParityCommand.Create(),
        BenchCommand.Create(),
        SelftestCommand.Create(),
    ];
}
