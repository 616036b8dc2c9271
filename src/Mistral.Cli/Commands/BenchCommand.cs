using System.CommandLine;
using Mistral.Bench;
using Mistral.Cli.Console;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Model;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu bench prefill|decode MODEL`: llama-bench style "pp N" / "tg N" tokens/second of a model on a device.
/// Figures to report, not tests.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks printing llama-bench style tokens/second");
        command.Subcommands.Add(Verb("prefill", "Prompt processing: tokens/second of one N-token prompt (pp N)", 512,
            (model, n, reps, chunk) => ModelBench.Prefill(model, n, reps, chunk)));
        command.Subcommands.Add(Verb("decode", "Text generation: tokens/second of N tokens generated one at a time (tg N)", 128,
            (model, n, reps, _) => ModelBench.Decode(model, n, reps)));
        return command;
    }

    private static Command Verb(string name, string description, int defaultTokens, Func<LoadedModel, int, int, int?, BenchResult> run)
    {
        var model = CommonOptions.ModelDir();
        var device = CommonOptions.Device();
        var tokens = new Option<int>("--tokens", "-n") { Description = "N, the prompt length (prefill) or tokens generated (decode)", DefaultValueFactory = _ => defaultTokens };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Measured runs after one warm-up", DefaultValueFactory = _ => 3 };
        var chunk = new Option<int?>("--chunk-size") { Description = "Prefill chunk size (default: the whole prompt at once)" };
        var command = new Command(name, description) { model, device, tokens, repetitions };
        if (name == "prefill") command.Options.Add(chunk);
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var ops = OpsFactory.Create(parse.GetValue(device)!);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops);
            var result = run(loaded, parse.GetValue(tokens), parse.GetValue(repetitions), parse.GetValue(chunk));
            output.WriteLine(BenchResult.Header);
            output.WriteLine(result);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
