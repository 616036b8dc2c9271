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
        var precision = CommonOptions.Precision();
        var sampling = new SamplingCliOptions(defaultMaxTokens: 128, defaultTemperature: 0.7f);

        var command = new Command("generate", "Continue a prompt with a model") { model, prompt, promptFile, json, device, precision };
        sampling.AddTo(command);
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            string text = ReadPrompt(parse.GetValue(prompt), parse.GetValue(promptFile));
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops);
            var tokenizer = loaded.RequireTokenizer();
            int[] ids = tokenizer.Encode(text, bos: tokenizer.AddsBos);
            ulong seed = sampling.Seed(parse);
            bool asJson = parse.GetValue(json);
            // Only --json reports logprobs; without them greedy decoding on a device keeps the logits there.
            var options = sampling.Generation(parse, seed, tokenizer.EosId >= 0 ? tokenizer.EosId : null, loaded.Model.Config.PositionLimit - ids.Length)
                with { TokenLogprobs = asJson };

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
                parse.InvocationConfiguration.Error.WriteLine(result.Timings);
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
            if (!file.Exists) throw new FileNotFoundException($"{file.FullName}: prompt file not found");
            prompt = File.ReadAllText(file.FullName).TrimEnd('\n', '\r');
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
            foreach (float lp in sequence.Logprobs) json.WriteNumberValue(lp);
            json.WriteEndArray();
            json.WriteString("finish_reason", sequence.Finish.ToString().ToLowerInvariant());
            json.WriteNumber("seed", seed);
            json.WriteStartObject("timings");
            json.WriteNumber("prompt_tokens", timings.PromptTokens);
            json.WriteNumber("prompt_ms", timings.PrefillTime.TotalMilliseconds);
            json.WriteNumber("prompt_tokens_per_second", timings.PromptTokensPerSecond);
            json.WriteNumber("generated_tokens", timings.GeneratedTokens);
            json.WriteNumber("generation_ms", timings.DecodeTime.TotalMilliseconds);
            json.WriteNumber("generation_tokens_per_second", timings.GeneratedTokensPerSecond);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteArray(Utf8JsonWriter json, string name, int[] values)
    {
        json.WriteStartArray(name);
        foreach (int v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
