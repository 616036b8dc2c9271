using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Mistral.Cli.Console;
using Mistral.Runtime.Evaluation;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Training.Data;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu eval MODEL --data valid.txt [--stride N] [--max-length N]`: strided perplexity of a text file, as
/// Hugging Face's fixed-length-model perplexity; `--lambada file.jsonl`: last-word accuracy and loss. Any model
/// directory of either family (a training checkpoint included), on any device; inference forwards only.
/// </summary>
internal static class EvalCommand
{
    /// <summary>The default window when the model states no position limit or a longer context (Mistral's 32k): long enough to mean something, short enough for a CPU.</summary>
    public const int DefaultMaxLengthCap = 2048;

    public static Command Create()
    {
        var model = CommonOptions.ModelDir();
        var data = new Option<FileInfo?>("--data") { HelpName = "FILE", Description = "Perplexity of this UTF-8 text file (tokenized whole, once)" };
        var lambada = new Option<FileInfo?>("--lambada") { HelpName = "FILE", Description = "Last-word accuracy and loss over {\"context\": ..., \"target\": ...} lines of this jsonl file" };
        var maxLength = new Option<int?>("--max-length") { HelpName = "N", Description = $"Tokens per window (default: the model's position limit or context, at most {DefaultMaxLengthCap})" };
        var stride = new Option<int?>("--stride") { HelpName = "N", Description = "Tokens a window advances by; the overlap is context, scored once (default: half the window)" };
        var batchTokens = new Option<int?>("--batch-tokens") { HelpName = "N", Description = "Input tokens packed into one forward (default: one window's worth; raise it on a GPU)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the summary lines" };
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var allowNonFinite = CommonOptions.AllowNonFinite();

        var command = new Command("eval", "Perplexity of a text file (--data, strided windows) or LAMBADA-style last-word accuracy (--lambada)")
        {
            model, data, lambada, maxLength, stride, batchTokens, json, device, precision, allowNonFinite,
        };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            // Every argument is checked before a device is opened or a model loaded; the position limit needs the config.
            var (dataFile, lambadaFile) = (parse.GetValue(data), parse.GetValue(lambada));
            if ((dataFile is null) == (lambadaFile is null)) throw new ArgumentException("eval: give exactly one of --data FILE or --lambada FILE");
            int? requestedLength = parse.GetValue(maxLength), requestedStride = parse.GetValue(stride), requestedBatch = parse.GetValue(batchTokens);
            if (requestedLength is < 2) throw new ArgumentException($"--max-length {requestedLength} is too short: a window needs at least 2 tokens");
            if (requestedStride is <= 0) throw new ArgumentException($"--stride {requestedStride} must be a positive number of tokens");
            if (requestedStride > requestedLength) throw new ArgumentException($"--stride {requestedStride} is larger than --max-length {requestedLength}: tokens between windows would never be scored");
            if (requestedBatch is <= 0) throw new ArgumentException($"--batch-tokens {requestedBatch} must be a positive number of tokens");
            if (lambadaFile is not null && requestedStride is not null) throw new ArgumentException("--stride applies to --data only");
            var text = dataFile is null ? null : ReadText(dataFile.FullName);
            var examples = lambadaFile is null ? null : LambadaFile.Read(lambadaFile.FullName);

            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops, options: CommonOptions.LoadOptions(parse, allowNonFinite));
            var tokenizer = loaded.RequireTokenizer();
            int length = MaxLength(loaded.Config, requestedLength);
            var scorer = new TokenScorer(loaded.Model, requestedBatch ?? length);
            var output = parse.InvocationConfiguration.Output;
            if (text is not null)
            {
                int windowStride = requestedStride ?? Math.Max(1, length / 2);
                if (windowStride > length) throw new ArgumentException($"--stride {windowStride} is larger than the window of {length} tokens (--max-length)");
                int[] tokens = tokenizer.Encode(text, bos: tokenizer.AddsBos);
                if (tokens.Length < 2) throw new ArgumentException($"{dataFile!.FullName}: the text is {tokens.Length} token long; perplexity needs at least 2");
                var result = StridedPerplexity.Run(scorer, tokens, length, windowStride);
                Write(output, parse.GetValue(json), dataFile!.FullName, result);
            }
            else
            {
                var result = LambadaEval.Run(scorer, tokenizer, examples!, length);
                Write(output, parse.GetValue(json), lambadaFile!.FullName, result);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The window: --max-length when it fits the model's position table, else the model's limit or context, capped.</summary>
    private static int MaxLength(IModelConfig config, int? requested)
    {
        if (requested is int n)
        {
            if (config.PositionLimit is int limit && n > limit)
                throw new ArgumentException($"--max-length {n} is beyond the model's {limit} positions (n_positions)");
            return n;
        }
        return Math.Min(config.PositionLimit ?? config.ContextLength ?? DefaultMaxLengthCap, DefaultMaxLengthCap);
    }

    /// <summary>The whole file as strict UTF-8 (a replacement character would score text nobody wrote); empty is an error.</summary>
    private static string ReadText(string path)
    {
        if (RegularFile.Problem(path) is string problem) throw new FileNotFoundException($"{path}: {problem}");
        string text;
        try
        {
            text = File.ReadAllText(path, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new DataFormatException(path, "the file is not valid UTF-8");
        }
        if (string.IsNullOrWhiteSpace(text)) throw new DataFormatException(path, "the file is empty: no text to score");
        return text;
    }

    private static void Write(TextWriter output, bool asJson, string file, PerplexityResult r)
    {
        if (asJson)
        {
            WriteJson(output, ("data", file), ("tokens", r.TokenCount), ("max_length", r.MaxLength), ("stride", r.Stride),
                ("windows", r.Windows), ("tokens_scored", r.TokensScored), ("tokens_forwarded", r.TokensForwarded), ("loss", r.Loss),
                ("perplexity", r.Perplexity), ("seconds", r.Elapsed.TotalSeconds), ("tokens_per_second", r.TokensPerSecond));
            return;
        }
        WriteSummary(output, Invariant($"{file}: {r.TokenCount} tokens in {r.Windows} window(s) of at most {r.MaxLength} tokens, stride {r.Stride}"),
            ("tokens scored", Invariant($"{r.TokensScored}")), ("loss", Invariant($"{r.Loss:F4}")),
            ("perplexity", Invariant($"{r.Perplexity:F3}")), ("tokens/s", Invariant($"{r.TokensPerSecond:F1}")));
    }

    private static void Write(TextWriter output, bool asJson, string file, LambadaResult r)
    {
        if (asJson)
        {
            WriteJson(output, ("lambada", file), ("examples", r.Examples), ("correct", r.Correct), ("accuracy", r.Accuracy),
                ("target_tokens", r.TargetTokens), ("loss", r.Loss), ("perplexity", r.Perplexity), ("max_length", r.MaxLength),
                ("truncated", r.Truncated), ("tokens_forwarded", r.TokensForwarded), ("seconds", r.Elapsed.TotalSeconds),
                ("examples_per_second", r.ExamplesPerSecond));
            return;
        }
        WriteSummary(output, Invariant($"{file}: {r.Examples} examples, {r.TargetTokens} target tokens, at most {r.MaxLength} tokens each ({r.Truncated} contexts cut on the left)"),
            ("accuracy", Invariant($"{r.Accuracy:F4} ({r.Correct}/{r.Examples})")), ("loss", Invariant($"{r.Loss:F4}")),
            ("perplexity", Invariant($"{r.Perplexity:F3}")), ("examples/s", Invariant($"{r.ExamplesPerSecond:F1}")));
    }

    /// <summary>A headline, then one figure per line with the values aligned.</summary>
    private static void WriteSummary(TextWriter output, string headline, params (string Label, string Value)[] figures)
    {
        output.WriteLine(headline);
        foreach (var (label, value) in figures) output.WriteLine($"{label,-15}{value}");
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>One indented object; JSON has no NaN or infinity, so a perplexity that overflowed or a rate over no time is null.</summary>
    private static void WriteJson(TextWriter output, params (string Name, object Value)[] fields)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var (name, value) in fields)
            {
                switch (value)
                {
                    case string text: json.WriteString(name, text); break;
                    case double d when !double.IsFinite(d): json.WriteNull(name); break;
                    case double d: json.WriteNumber(name, d); break;
                    default: json.WriteNumber(name, Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
                }
            }
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
