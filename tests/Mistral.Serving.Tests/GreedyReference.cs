using Mistral.Runtime.Model;
using Xunit;

namespace Mistral.Serving.Tests;

/// <summary>
/// A fixture's greedy reference (reference/greedy.safetensors: prompt{i}.tokens, generated [prompts, N],
/// chosen_logprobs [prompts, N]) replayed through /v1/completions, prompts sent as token ids.
/// </summary>
internal static class GreedyReference
{
    /// <summary>The fixtures' bound for fp32 logprobs (their index.json suggested_tolerance).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>
    /// Each reference prompt, greedy with ignore_eos (the references never stop early): the text decodes the reference
    /// tokens, each token logprob is within <see cref="Tolerance"/>, usage counts the prompt ids as sent.
    /// </summary>
    public static async Task AssertCompletionsMatchAsync(TinyServer server, string referenceDir)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(referenceDir, "greedy.safetensors"));
        var shape = file.Get("generated").Shape;
        int prompts = shape[0], tokens = shape[1];
        var generated = file.Get("generated").ToInt32();
        var logprobs = file.Get("chosen_logprobs").ToFloat32();
        var tokenizer = server.Loaded.RequireTokenizer();
        for (int p = 0; p < prompts; p++)
        {
            var prompt = file.Get($"prompt{p}.tokens").ToInt32();
            var (status, body) = await server.PostAsync("v1/completions",
                $$"""{"model": "{{server.Name}}", "prompt": [{{string.Join(",", prompt)}}], "max_tokens": {{tokens}}, "temperature": 0, "logprobs": 0, "ignore_eos": true}""");
            Assert.Equal(200, status);
            var choice = body.GetProperty("choices")[0];
            Assert.Equal(tokenizer.Decode(generated.AsSpan(p * tokens, tokens).ToArray()), choice.GetProperty("text").GetString());
            var got = choice.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(tokens, got.Length);
            for (int t = 0; t < tokens; t++)
                Assert.True(Math.Abs(got[t] - logprobs[p * tokens + t]) <= Tolerance, $"prompt {p} token {t}: {got[t]} vs reference {logprobs[p * tokens + t]}");
            Assert.Equal(prompt.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
            Assert.Equal(tokens, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        }
    }
}
