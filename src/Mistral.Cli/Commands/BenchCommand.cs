using System.CommandLine;
using Mistral.Bench;
using Mistral.Cli.Console;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu bench prefill|decode MODEL`: llama-bench style "pp N" / "tg N" tokens/second of a model on a device.
/// Figures to report, not tests.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Benchmarks: llama-bench style tokens/second (prefill, decode), per-kernel figures (kernels), LoRA training (train), the HTTP server (serve)");
        command.Subcommands.Add(Verb("prefill", "Prompt processing: tokens/second of one N-token prompt (pp N)", [512], [128, 512, 2048],
            (model, name, n, reps, chunk, _, _) => ModelBench.Prefill(model, name, n, reps, chunk)));
        command.Subcommands.Add(Verb("decode", "Text generation: tokens/second of N tokens generated one at a time (tg N)", [128], [128],
            (model, name, n, reps, _, depth, note) => ModelBench.Decode(model, name, n, reps, note, depth)));
        command.Subcommands.Add(BenchKernelsCommand.Create());
        command.Subcommands.Add(BenchTrainCommand.Create());
        command.Subcommands.Add(BenchServeCommand.Create());
        return command;
    }

    /// <param name="defaultTokens">N values for a model directory.</param>
    /// <param name="shapeTokens">N values for a synthetic --shape (the issue's figures: pp 128/512/2048, tg 128).</param>
    private static Command Verb(string name, string description, int[] defaultTokens, int[] shapeTokens,
        Func<ICausalLm, string, int, int, int?, int, Action<string>, BenchResult> run)
    {
        var model = new Argument<string?>("MODEL")
        {
            Description = "Model directory (params.json + weights, or HF config.json + weights); omit with --shape",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var shape = new Option<string?>("--shape") { Description = $"Random weights of a named shape made on the device instead of a model: {string.Join(", ", ShapePresets.All.Keys)}" };
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var tokens = new Option<int[]>("--tokens", "-n") { Description = "N, the prompt length (prefill) or tokens generated (decode); several allowed", AllowMultipleArgumentsPerToken = true };
        var repetitions = new Option<int>("--repetitions", "-r") { Description = "Measured runs after one warm-up", DefaultValueFactory = _ => 3 };
        var chunk = new Option<int?>("--chunk-size") { Description = "Prefill chunk size (default: the whole prompt at once)" };
        var depth = new Option<int[]>("--depth", "-d")
        {
            Description = "Decode after a prompt of D tokens, prefilled untimed (llama-bench's depth; row \"tg N @ D\"): the cache positions the " +
                          "timed steps attend over, e.g. 4096 for a full 4k window; several allowed (default 1: a one-token prompt)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command(name, description) { model, shape, device, precision, tokens, repetitions };
        if (name == "prefill") command.Options.Add(chunk);
        if (name == "decode") command.Options.Add(depth);
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            string? modelDir = parse.GetValue(model), shapeName = parse.GetValue(shape);
            if ((modelDir is null) == (shapeName is null))
                throw new ArgumentException($"bench {name}: give either a MODEL directory or --shape NAME ({string.Join(", ", ShapePresets.All.Keys)})");
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = modelDir is null ? null : LoadedModel.Load(modelDir, ops);
            using var synthetic = shapeName is null ? null : new SyntheticModel(ops, shapeName);
            var lm = loaded?.Model ?? synthetic!.Model;
            string label = loaded is null ? synthetic!.Name : Path.GetFileName(Path.TrimEndingDirectorySeparator(loaded.DirectoryPath));
            var ns = parse.GetValue(tokens) is { Length: > 0 } given ? given : shapeName is null ? defaultTokens : shapeTokens;
            var depths = parse.GetValue(depth) is { Length: > 0 } d ? d : [1];
            output.WriteLine(BenchResult.Header);
            foreach (int p in depths)
            foreach (int n in ns)
            {
                output.WriteLine(run(lm, label, n, parse.GetValue(repetitions), parse.GetValue(chunk), p,
                    message => parse.InvocationConfiguration.Error.WriteLine($"note: {message}")));
                output.Flush();
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
