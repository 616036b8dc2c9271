using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Model;

namespace Mistral.Cli.Commands;

/// <summary>`mistral-cu info MODEL`: what a model directory holds, without loading the weights.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "Model directory (native params.json or Hugging Face config.json layout)" };
        var command = new Command("info", "Show a model directory's layout, config, parameter count, dtype, size on disk and tokenizer") { model };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            using var dir = ModelDirectory.Open(parse.GetValue(model)!);
            Print(dir, parse.InvocationConfiguration.Output);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(ModelDirectory dir, TextWriter o)
    {
        var c = dir.Config;
        long parameters = c.ParameterCount;
        Line(o, "model", Path.GetFullPath(dir.DirectoryPath));
        Line(o, "family", dir.Family.Name);
        Line(o, "layout", Describe(dir));
        Line(o, "config", dir.ConfigPath);
        Line(o, "parameters", $"{parameters:N0} ({Scaled(parameters, 1000, ["", " K", " M", " B"])})");
        Line(o, "dtype", dir.StoredDType.ToString());
        Line(o, "on disk", $"{dir.WeightBytes:N0} bytes ({Scaled(dir.WeightBytes, 1024, [" B", " KiB", " MiB", " GiB"])}) in {dir.WeightFiles.Count} weight file(s)");
        Line(o, "tokenizer", dir.TokenizerPath ?? "(none: no tokenizer.model or tokenizer.json)");
        foreach (var (name, value) in c.Describe()) Line(o, name, value);
    }

    private static void Line(TextWriter o, string label, string value) => o.WriteLine($"{label,-15} {value}");

    private static string Describe(ModelDirectory dir) => dir.Layout switch
    {
        ModelLayout.NativeSafeTensors => "native (consolidated.safetensors)",
        ModelLayout.NativePth => "native (consolidated.00.pth, torch.save)",
        ModelLayout.HuggingFace when dir.IsSharded => $"Hugging Face ({dir.WeightFiles.Count} shards with an index)",
        _ => $"Hugging Face ({Path.GetFileName(dir.WeightFiles[0])})",
    };

    private static string Scaled(long value, double step, string[] units)
    {
        double v = value;
        int u = 0;
        while (v >= step && u < units.Length - 1) { v /= step; u++; }
        return u == 0 ? $"{value}{units[0]}" : $"{v:F2}{units[u]}";
    }
}
