using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Training.Metrics;

namespace Mistral.Cli.Commands;

/// <summary>`mistral-cu plot RUN_DIR [--output FILE]`: the run's train and eval loss curves as a self-contained SVG (default RUN_DIR/loss.svg).</summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var run = new Argument<DirectoryInfo>("RUN_DIR") { Description = "A finetune run_dir (reads its metrics.jsonl)" };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "SVG file to write (default RUN_DIR/loss.svg)" };
        var command = new Command("plot", "Draw a run's loss curves to an SVG file") { run, output };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var dir = parse.GetValue(run)!.FullName;
            var path = parse.GetValue(output)?.FullName ?? Path.Combine(dir, "loss.svg");
            var curves = LossCurves.Read(dir);
            File.WriteAllText(path, LossPlotSvg.Render(curves, $"{Path.GetFileName(dir.TrimEnd('/'))}: loss"));
            parse.InvocationConfiguration.Output.WriteLine($"{curves.Train.Count} train and {curves.Eval.Count} eval points -> {path}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
