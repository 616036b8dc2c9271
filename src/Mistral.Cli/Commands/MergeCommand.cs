using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Training.Lora;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu merge RUN_DIR|CHECKPOINT --output DIR [--model BASE]`: W + s·B·A (and the trained norms) written in the
/// base model's layout and dtype, so `generate` and other tools load it like the base model.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var source = new Argument<DirectoryInfo>("RUN_OR_CHECKPOINT") { Description = "A finetune run_dir (its latest checkpoint) or one checkpoints/step_N folder" };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Where to write the merged model", Required = true };
        var model = new Option<DirectoryInfo?>("--model") { Description = "Base model directory (default: the one the run trained from)" };
        var command = new Command("merge", "Fold LoRA adapters into the base model and write it in the same layout") { source, output, model };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var dest = parse.GetValue(output)!.FullName;
            var checkpoint = CheckpointMerge.Merge(parse.GetValue(source)!.FullName, dest, parse.GetValue(model)?.FullName);
            parse.InvocationConfiguration.Output.WriteLine($"merged {checkpoint} -> {dest}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
