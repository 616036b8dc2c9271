using System.Diagnostics;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Bench;

/// <summary>
/// llama-bench's two end-to-end figures: pp N = prefill of one N-token prompt (tokens/second of the prompt pass,
/// through the Generator a user runs), tg N = generating N tokens one at a time after a one-token prompt, or after a
/// P-token one ("tg N @ P", llama-bench's depth: the cache filled to position P untimed, so the steps attend over P
/// keys, up to a full window, instead of fewer than N). On ops with a
/// device (<see cref="IOps.OnDevice"/>: CUDA, emulated) tg N runs the <see cref="DecodeGraph"/> (greedy argmax on the device, the step replayed as a CUDA graph, only
/// the id copied back); elsewhere the Generator's greedy loop. Prompt ids are drawn with a fixed seed. One warm-up
/// run precedes the measured repetitions. A figure to report, never asserted.
/// </summary>
public static class ModelBench
{
    public static BenchResult Prefill(LoadedModel model, int promptTokens, int repetitions, int? chunkSize = null) =>
        Prefill(model.Model, ModelName(model), promptTokens, repetitions, chunkSize);

    public static BenchResult Decode(LoadedModel model, int newTokens, int repetitions) =>
        Decode(model.Model, ModelName(model), newTokens, repetitions);

    public static BenchResult Prefill(ICausalLm model, string name, int promptTokens, int repetitions, int? chunkSize = null)
    {
        if (promptTokens <= 0) throw new ArgumentOutOfRangeException(nameof(promptTokens), promptTokens, "prompt length must be > 0");
        var prompt = RandomTokens(model.Config.VocabSize, promptTokens);
        var options = new GenerationOptions { MaxTokens = 0, ChunkSize = chunkSize };
        var generator = new Generator(model);
        var rates = Measure(repetitions, () => generator.Generate([prompt], options).Timings.PromptTokensPerSecond);
        return Result(model, name, $"pp {promptTokens}", rates);
    }

    /// <param name="note">told once if the decode step could not be captured into a CUDA graph (it then ran eagerly).</param>
    /// <param name="depth">prompt tokens prefilled (untimed) before the timed steps: the cache position they start near.</param>
    public static BenchResult Decode(ICausalLm model, string name, int newTokens, int repetitions, Action<string>? note = null, int depth = 1)
    {
        if (newTokens <= 0) throw new ArgumentOutOfRangeException(nameof(newTokens), newTokens, "token count must be > 0");
        if (depth <= 0) throw new ArgumentOutOfRangeException(nameof(depth), depth, "the decode depth (prompt tokens before the timed steps) must be > 0");
        if (model.Config.PositionLimit is { } limit && (long)depth + newTokens + GraphUntimedSteps > limit)
            throw new ArgumentException($"tg {newTokens} at depth {depth} needs {depth + newTokens + GraphUntimedSteps} positions; the model has {limit}");
        var prompt = RandomTokens(model.Config.VocabSize, depth);
        Func<double> run;
        if (model.Ops.OnDevice is { } device)
        {
            string? told = null;
            run = () =>
            {
                double rate = GraphDecode(model, device, prompt, newTokens, out var captureError);
                if (captureError is not null && told is null) note?.Invoke(told = $"decode step not captured, ran eagerly: {captureError}");
                return rate;
            };
        }
        else
        {
            var options = new GenerationOptions { MaxTokens = newTokens, EosId = null };
            var generator = new Generator(model);
            run = () => generator.Generate([prompt], options).Timings.GeneratedTokensPerSecond;
        }
        return Result(model, name, depth > 1 ? $"tg {newTokens} @ {depth}" : $"tg {newTokens}", Measure(repetitions, run));
    }

    /// <summary>Decode steps of <see cref="GraphDecode"/> before the timed ones: the eager step, then the capture.</summary>
    private const int GraphUntimedSteps = 2;

    /// <summary>
    /// Prefills the prompt (in chunks of at most the window), then N greedy decode steps through
    /// <see cref="DecodeGraph"/>; the prefill and the first two steps (eager, then the capture) are outside the timed
    /// region, which ends when the last id has reached the host.
    /// </summary>
    private static double GraphDecode(ICausalLm model, IDeviceOps device, int[] prompt, int newTokens, out string? captureError)
    {
        int slots = RollingKvCache.SlotsFor(model.Config, prompt.Length, newTokens + GraphUntimedSteps);
        using var cache = new RollingKvCache(model.Ops, model.Config, rows: 1, slots);
        int chunk = Math.Min(PrefillChunk, model.Config.Window);
        for (int offset = 0; offset < prompt.Length; offset += chunk)
        {
            int length = Math.Min(chunk, prompt.Length - offset);
            model.Forward(prompt.AsSpan(offset, length).ToArray(), cache.NextBatch([0], [length]), cache, LogitsFor.LastTokens);
        }
        using var step = new DecodeGraph(model, device, cache, [0]);
        int token = prompt[^1];
        for (int i = 0; i < GraphUntimedSteps; i++) token = step.Step([token])[0];
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < newTokens; i++) token = step.Step([token])[0];
        double rate = newTokens / watch.Elapsed.TotalSeconds;
        captureError = step.CaptureError;
        return rate;
    }

    /// <summary>Prefill chunk of a deep decode bench: bounds the activations a 7B prefill of thousands of tokens needs.</summary>
    private const int PrefillChunk = 1024;

    private static List<double> Measure(int repetitions, Func<double> run)
    {
        if (repetitions <= 0) throw new ArgumentOutOfRangeException(nameof(repetitions), repetitions, "repetitions must be > 0");
        run();
        return Enumerable.Range(0, repetitions).Select(_ => run()).ToList();
    }

    private static string ModelName(LoadedModel model) => Path.GetFileName(Path.TrimEndingDirectorySeparator(model.DirectoryPath));

    private static BenchResult Result(ICausalLm model, string name, string test, List<double> rates) =>
        new(name, model.Config.ParameterCount, model.Ops.Name, test, rates);

    private static int[] RandomTokens(int vocab, int count)
    {
        var random = new Random(1234);
        var tokens = new int[count];
        tokens[0] = 1; // BOS, as every real prompt starts
        for (int i = 1; i < count; i++) tokens[i] = random.Next(vocab);
        return tokens;
    }
}
