using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Chat;
using Mistral.Runtime.Model;
using Mistral.Serving;
using Mistral.Serving.Engine;
using Mistral.Serving.Http;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu serve MODEL`: an OpenAI-compatible HTTP server (completions, chat completions, models, health, metrics)
/// with continuous batching, until Ctrl-C. Any OpenAI client works against it with base_url http://HOST:PORT/v1.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDir();
        var device = CommonOptions.Device();
        var precision = CommonOptions.Precision();
        var host = new Option<string>("--host") { Description = "Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port", DefaultValueFactory = _ => 8000 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1 routes" };
        var name = new Option<string?>("--served-model-name") { Description = "The model name clients send (default: the directory's name)" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Sequences decoded together at most (KV cache rows)", DefaultValueFactory = _ => 16 };
        var maxQueue = new Option<int>("--max-queue") { Description = "Sequences that may wait for a row before requests get 429", DefaultValueFactory = _ => 256 };
        var maxModelLen = new Option<int?>("--max-model-len") { Description = $"Longest prompt + completion in tokens (default: the model's context, else {CausalLmServingLm.DefaultMaxSequenceLength}; never above the context nor a position limit such as GPT-2's n_positions)" };
        var prefillChunk = new Option<int>("--prefill-chunk") { Description = "Prompts are prefilled in chunks of this many tokens, between decode steps", DefaultValueFactory = _ => 256 };
        var command = new Command("serve", "OpenAI-compatible HTTP server with continuous batching (Ctrl-C stops it)")
        {
            model, host, port, apiKey, name, maxBatch, maxQueue, maxModelLen, prefillChunk, device, precision,
        };
        command.SetAction((parse, cancel) => Task.FromResult(ErrorReporter.Run(parse, () =>
        {
            int rows = parse.GetValue(maxBatch);
            if (rows <= 0) throw new ArgumentException($"serve: --max-batch must be > 0, got {rows}");
            var scheduling = new SchedulerOptions
            {
                MaxQueue = parse.GetValue(maxQueue),
                PrefillChunk = parse.GetValue(prefillChunk),
                StepTokens = Math.Max(parse.GetValue(prefillChunk), 2 * rows),
            };
            scheduling.Validate();
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops);
            var tokenizer = loaded.RequireTokenizer();
            using var lm = new CausalLmServingLm(loaded.Model, rows, parse.GetValue(maxModelLen), loaded.SampleableVocab);
            string servedName = parse.GetValue(name) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(loaded.DirectoryPath)));
            var options = new ServerOptions { Host = parse.GetValue(host)!, Port = parse.GetValue(port), ApiKey = parse.GetValue(apiKey) };
            var template = ChatTemplate.For(tokenizer);
            var running = ServingHost.StartAsync(lm, tokenizer, template, servedName, scheduling, options, cancel).GetAwaiter().GetResult();
            try
            {
                var error = parse.InvocationConfiguration.Error;
                error.WriteLine($"serving {servedName} on {running.BaseAddress} (OpenAI base_url {running.BaseAddress}v1): " +
                                $"{rows} rows, up to {lm.MaxSequenceLength} tokens per sequence, chat template: {(template is null ? "none" : "Mistral instruct")}. Ctrl-C stops.");
                try
                {
                    Task.Delay(Timeout.Infinite, cancel).GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    error.WriteLine("stopping");
                }
            }
            finally
            {
                running.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return ExitCodes.Ok;
        })));
        return command;
    }
}
