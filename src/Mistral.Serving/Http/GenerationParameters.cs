using System.Text.Json;
using Mistral.Runtime.Generation;

namespace Mistral.Serving.Http;

/// <summary>
/// The generation fields both endpoints share, read and range-checked once: max_tokens (chat also
/// max_completion_tokens), temperature, top_p, top_k, min_p, repetition_penalty (llama.cpp's and vLLM's names), stop,
/// seed, n, stream and stream_options.include_usage, and logprobs (completions: an integer k; chat: logprobs true with
/// top_logprobs k), and vLLM's ignore_eos (benchmarks: generate max_tokens whatever the model says). Defaults are OpenAI's: temperature 1, n 1, completions max_tokens 16, chat until the context ends.
/// </summary>
internal sealed record GenerationParameters(
    int? MaxTokens,
    SamplingOptions Sampling,
    IReadOnlyList<string> Stop,
    int N,
    bool Stream,
    bool IncludeUsage,
    int? TopLogprobs,
    bool IgnoreEos)
{
    public const int MaxN = 16;
    public const int MaxTopLogprobs = 20;

    public static GenerationParameters Parse(JsonElement body, bool chat)
    {
        int? maxTokens = chat
            ? RequestFields.Int(body, "max_completion_tokens", null, 1) ?? RequestFields.Int(body, "max_tokens", null, 1)
            : RequestFields.Int(body, "max_tokens", 16, 0);
        int topK = RequestFields.Int(body, "top_k", 0, -1)!.Value;                // vLLM spells "off" as -1
        ulong seed = RequestFields.TryGet(body, "seed", out var s)
            ? s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var given) ? unchecked((ulong)given) : throw RequestFields.TypeError("seed", "an integer", s)
            : (ulong)Random.Shared.NextInt64();
        var sampling = new SamplingOptions(
            Temperature: RequestFields.Float(body, "temperature", 1f, 0, 2),
            TopK: Math.Max(topK, 0),
            TopP: RequestFields.Float(body, "top_p", 1f, 0, 1, minExclusive: true),
            MinP: RequestFields.Float(body, "min_p", 0f, 0, 1),
            RepetitionPenalty: RequestFields.Float(body, "repetition_penalty", 1f, 0, 100, minExclusive: true),
            Seed: seed);
        var stop = RequestFields.Strings(body, "stop");
        int n = RequestFields.Int(body, "n", 1, 1, MaxN)!.Value;
        bool stream = RequestFields.Bool(body, "stream", false);
        bool includeUsage = RequestFields.TryGet(body, "stream_options", out var options) &&
            (options.ValueKind == JsonValueKind.Object ? RequestFields.Bool(options, "include_usage", false) : throw RequestFields.TypeError("stream_options", "an object", options));
        int? topLogprobs = chat
            ? RequestFields.Bool(body, "logprobs", false) ? RequestFields.Int(body, "top_logprobs", 0, 0, MaxTopLogprobs) : null
            : RequestFields.Int(body, "logprobs", null, 0, MaxTopLogprobs);
        bool ignoreEos = RequestFields.Bool(body, "ignore_eos", false);
        return new GenerationParameters(maxTokens, sampling, stop, n, stream, includeUsage, topLogprobs, ignoreEos);
    }
}
