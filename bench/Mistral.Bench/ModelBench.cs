using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;

namespace Mistral.Bench;

/// <summary>
/// llama-bench's two end-to-end figures, measured through the same Generator a user runs:
/// pp N = prefill of one N-token prompt (tokens/second of the prompt pass), tg N = generating N tokens one at a time
/// after a one-token prompt (greedy, so sampling costs an argmax). Prompt ids are drawn with a fixed seed. One warm-up
/// run precedes the measured repetitions (JIT, first-touch allocations). A figure to report, never asserted.
/// </summary>
public static class ModelBench
{
    public static BenchResult Prefill(LoadedModel model, int promptTokens, int repetitions, int? chunkSize = null)
    {
        if (promptTokens <= 0) throw new ArgumentOutOfRangeException(nameof(promptTokens), promptTokens, "prompt length must be > 0");
        var prompt = RandomTokens(model.Config.VocabSize, promptTokens);
        var options = new GenerationOptions { MaxTokens = 0, ChunkSize = chunkSize };
        var generator = new Generator(model.Transformer);
        var rates = Measure(repetitions, () => generator.Generate([prompt], options).Timings.PromptTokensPerSecond);
        return Result(model, $"pp {promptTokens}", rates);
    }

    public static BenchResult Decode(LoadedModel model, int newTokens, int repetitions)
    {
        if (newTokens <= 0) throw new ArgumentOutOfRangeException(nameof(newTokens), newTokens, "token count must be > 0");
        var options = new GenerationOptions { MaxTokens = newTokens, EosId = null };
        var generator = new Generator(model.Transformer);
        var rates = Measure(repetitions, () => generator.Generate([[1]], options).Timings.GeneratedTokensPerSecond);
        return Result(model, $"tg {newTokens}", rates);
    }

    private static List<double> Measure(int repetitions, Func<double> run)
    {
        if (repetitions <= 0) throw new ArgumentOutOfRangeException(nameof(repetitions), repetitions, "repetitions must be > 0");
        run();
        return Enumerable.Range(0, repetitions).Select(_ => run()).ToList();
    }

    private static BenchResult Result(LoadedModel model, string test, List<double> rates) =>
        new(Path.GetFileName(Path.TrimEndingDirectorySeparator(model.DirectoryPath)), model.Config.ParameterCount, model.Transformer.Ops.Name, test, rates);

    private static int[] RandomTokens(int vocab, int count)
    {
        var random = new Random(1234);
        var tokens = new int[count];
        tokens[0] = 1; // BOS, as every real prompt starts
        for (int i = 1; i < count; i++) tokens[i] = random.Next(vocab);
        return tokens;
    }
}
