using System.CommandLine;
using Mistral.Bench;
using Mistral.Cli.Console;
using Mistral.Runtime.Chat;
using Mistral.Runtime.Model;
using Mistral.Serving;
using Mistral.Serving.Engine;
using Mistral.Serving.Http;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu bench serve MODEL`: starts the server in-process on a free loopback port and sends it a fixed number of
/// streamed completions at each concurrency (default 1, 4, 16); prints requests/s, generated tokens/s and time to
/// first token p50/p99, after a few warm-up requests. Figures to report, not tests.
/// </summary>
internal static class BenchServeCommand
{
    private const string DefaultPrompt = "The llama is a domesticated South American camelid, widely used as a meat and pack animal by Andean cultures.";

    public static Command Create()
    {
        var model = CommonOptions.ModelDir();
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var concurrency = new Option<int[]>("--concurrency", "-c") { Description = "Requests in flight at once; several allowed", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [1, 4, 16] };
        var requests = new Option<int>("--requests") { Description = "Requests sent at each concurrency (at least the concurrency)", DefaultValueFactory = _ => 32 };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens each request generates", DefaultValueFactory = _ => 32 };
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt every request sends", DefaultValueFactory = _ => DefaultPrompt };
        var maxBatch = new Option<int>("--max-batch") { Description = "Sequences decoded together at most (KV cache rows)", DefaultValueFactory = _ => 16 };
        var command = new Command("serve", "Serving: requests/s, tokens/s and time to first token of the HTTP server on loopback at concurrency 1, 4, 16")
        {
            model, device, precision, concurrency, requests, maxTokens, prompt, maxBatch,
        };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops);
            var tokenizer = loaded.RequireTokenizer();
            using var lm = new CausalLmServingLm(loaded.Model, parse.GetValue(maxBatch), sampleableVocab: loaded.SampleableVocab);
            var host = ServingHost.StartAsync(lm, tokenizer, ChatTemplate.For(tokenizer), "bench", new SchedulerOptions(), new ServerOptions { Port = 0 })
                .GetAwaiter().GetResult();
            try
            {
                using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };
                output.WriteLine($"model {Path.GetFileName(Path.TrimEndingDirectorySeparator(loaded.DirectoryPath))} on {ops.Name}, " +
                                 $"{tokenizer.Encode(parse.GetValue(prompt)!, bos: tokenizer.AddsBos).Length} prompt tokens, {parse.GetValue(maxTokens)} generated per request, {lm.Rows} rows");
                // Warm-up (JIT, first allocations), not reported.
                ServeBench.RunAsync(client, "bench", parse.GetValue(prompt)!, parse.GetValue(maxTokens), 2, 4).GetAwaiter().GetResult();
                output.WriteLine(ServeFigure.Header);
                foreach (int c in parse.GetValue(concurrency)!)
                {
                    var figure = ServeBench.RunAsync(client, "bench", parse.GetValue(prompt)!, parse.GetValue(maxTokens), c, Math.Max(c, parse.GetValue(requests)))
                        .GetAwaiter().GetResult();
                    output.WriteLine(figure);
                    output.Flush();
                }
            }
            finally
            {
                host.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
