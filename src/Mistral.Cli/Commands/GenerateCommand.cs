using System.CommandLine;
using System.Text.Json;
using Mistral.Cli.Console;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu generate MODEL --prompt TEXT`: encodes the prompt (with BOS, as mistral-src does), streams the
/// continuation to stdout, and ends with llama.cpp's prompt / generation tok/s line on stderr. --json prints one
/// object with ids, text, logprobs and timings instead.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDir();
        var prompt = new Option<string?>("--prompt", "-p") { Description = "The prompt text" };
        var promptFile = new Option<FileInfo?>("--prompt-file", "-f") { Description = "Read the prompt from this file (a final newline is dropped)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (ids, text, logprobs, timings) instead of streaming" };
        var device = CommonOptions.Device();
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var precision = CommonOptions.Precision();
        var sampling = new SamplingCliOptions(defaultMaxTokens: 128, defaultTemperature: 0.7f);

        var command = new Command("generate", "Continue a prompt with a model") { model, prompt, promptFile, json, device, allowNonFinite, precision };
        sampling.AddTo(command);
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            // Every argument is checked before a device is opened (and its note printed) or a model loaded.
            string text = ReadPrompt(parse.GetValue(prompt), parse.GetValue(promptFile));
            ulong seed = sampling.Seed(parse);
            var checkedOptions = sampling.Generation(parse, seed, eosId: null);
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops, options: CommonOptions.LoadOptions(parse, allowNonFinite));
            var tokenizer = loaded.RequireTokenizer();
            int[] ids = tokenizer.Encode(text, bos: tokenizer.AddsBos);
            bool asJson = parse.GetValue(json);
            // Only --json reports logprobs; without them greedy decoding on a device keeps the logits there.
            var options = sampling.Generation(parse, seed, tokenizer.EosId >= 0 ? tokenizer.EosId : null, loaded.Model.Config.PositionLimit - ids.Length)
                with { TokenLogprobs = asJson, SampleableVocab = loaded.SampleableVocab };

            var streams = new TextStreams(tokenizer, 1, sampling.StopStrings(parse), asJson ? null : (_, delta) =>
            {
                output.Write(delta);
                output.Flush();
            });
            var generator = new Generator(loaded.Model);
            generator.Validate([ids], options); // an over-long request fails before the prompt is echoed
            if (!asJson) output.Write(text);
            var result = generator.Generate([ids], options, streams.OnToken);
            streams.Finish();

            if (asJson)
            {
                WriteJson(output, text, result.Sequences[0], streams.Text(0), result.Timings, seed);
            }
            else
            {
                output.WriteLine();
                // The seed makes a sampled run repeatable: say it (--json carries it as a field).
                parse.InvocationConfiguration.Error.WriteLine($"{result.Timings} | seed {seed}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The prompt from exactly one of --prompt / --prompt-file; an empty prompt is an error.</summary>
    internal static string ReadPrompt(string? prompt, FileInfo? file)
    {
        if (prompt is not null && file is not null) throw new ArgumentException("give either --prompt or --prompt-file, not both");
        if (file is not null)
        {
            if (RegularFile.Problem(file.FullName) is string problem)
                throw new FileNotFoundException($"{file.FullName}: {(problem == "file not found" ? "prompt file not found" : problem)}");
            try
            {
                // Strict UTF-8: a replacement character would send the model text nobody wrote.
                prompt = File.ReadAllText(file.FullName, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true)).TrimEnd('\n', '\r');
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw new ArgumentException($"{file.FullName}: the prompt file is not valid UTF-8");
            }
        }
        if (prompt is null) throw new ArgumentException("no prompt: give --prompt TEXT or --prompt-file FILE");
        if (prompt.Length == 0) throw new ArgumentException("the prompt is empty");
        return prompt;
    }

    private static void WriteJson(TextWriter output, string prompt, SequenceOutput sequence, string text, GenerationTimings timings, ulong seed)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("prompt", prompt);
            json.WriteString("text", text);
            WriteArray(json, "prompt_ids", sequence.Prompt);
            WriteArray(json, "ids", sequence.Tokens);
            json.WriteStartArray("logprobs");
            foreach (float lp in sequence.Logprobs) WriteNumberOrNull(json, lp);
            json.WriteEndArray();
            json.WriteString("finish_reason", sequence.Finish.ToString().ToLowerInvariant());
            json.WriteNumber("seed", seed);
            json.WriteStartObject("timings");
            json.WriteNumber("prompt_tokens", timings.PromptTokens);
            json.WriteNumber("prompt_ms", timings.PrefillTime.TotalMilliseconds);
            json.WritePropertyName("prompt_tokens_per_second");
            WriteNumberOrNull(json, timings.PromptTokensPerSecond);
            json.WriteNumber("generated_tokens", timings.GeneratedTokens);
            json.WriteNumber("generation_ms", timings.DecodeTime.TotalMilliseconds);
            json.WritePropertyName("generation_tokens_per_second");
            WriteNumberOrNull(json, timings.GeneratedTokensPerSecond);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>JSON has no NaN or infinity (the writer throws on them): such a value is written as null.</summary>
    private static void WriteNumberOrNull(Utf8JsonWriter json, double value)
    {
        if (double.IsFinite(value)) json.WriteNumberValue(value);
        else json.WriteNullValue();
    }

    private static void WriteArray(Utf8JsonWriter json, string name, int[] values)
    {
        json.WriteStartArray(name);
        foreach (int v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
