using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Model;
using Mistral.Runtime.Tokenizer;

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
            var (tokenizer, problem) = ReadTokenizer(dir);
            Print(dir, tokenizer, problem, parse.InvocationConfiguration.Output);
            if (problem is null)
                return ExitCodes.Ok;
            // Everything readable was shown; the directory still cannot be run, so say why and fail as generate would.
            parse.InvocationConfiguration.Error.WriteLine($"error: {problem}");
            return ExitCodes.BadInput;
        }));
        return command;
    }

    /// <summary>The tokenizer as generate would load it, or why it cannot be (unreadable, or more ids than embedding rows).</summary>
    private static (ITokenizer? Tokenizer, string? Problem) ReadTokenizer(ModelDirectory dir)
    {
        if (dir.TokenizerPath is not string path)
            return (null, null);
        try
        {
            var tokenizer = TokenizerFiles.Load(path);
            LoadedModel.CheckVocabulary(dir, tokenizer);
            return (tokenizer, null);
        }
        catch (Exception e) when (e is TokenizerFormatException or CheckpointFormatException)
        {
            return (null, e.Message);
        }
    }

    private static void Print(ModelDirectory dir, ITokenizer? tokenizer, string? problem, TextWriter o)
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
        Line(o, "tokenizer", problem is not null ? $"unreadable: {problem}" : dir.TokenizerPath ?? "(none: no tokenizer.model or tokenizer.json)");
        if (tokenizer is not null)
            Line(o, "vocabulary", tokenizer.VocabSize == c.VocabSize
                ? $"{tokenizer.VocabSize} ids"
                : $"{tokenizer.VocabSize} ids, {c.VocabSize} embedding rows (the {c.VocabSize - tokenizer.VocabSize} padding rows are never sampled)");
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
