using System.CommandLine;
using Mistral.Runtime.Generation;

namespace Mistral.Cli.Commands;

/// <summary>The sampling and stopping options of generate and chat, and how they become GenerationOptions.</summary>
internal sealed class SamplingCliOptions
{
    private readonly Option<int> _maxTokens;
    private readonly Option<float> _temperature;
    private readonly Option<float> _topP = new("--top-p") { Description = "Keep the most likely tokens until their mass reaches p (1 = off)", DefaultValueFactory = _ => 1f };
    private readonly Option<int> _topK = new("--top-k") { Description = "Keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 0 };
    private readonly Option<float> _minP = new("--min-p") { Description = "Drop tokens less likely than min-p times the best one (0 = off)", DefaultValueFactory = _ => 0f };
    private readonly Option<float> _repeatPenalty = new("--repeat-penalty") { Description = "Penalise the last 64 tokens (1 = off)", DefaultValueFactory = _ => 1f };
    private readonly Option<ulong?> _seed = new("--seed") { Description = "Random seed; the same seed gives the same tokens (default: a fresh one, printed)" };
    private readonly Option<string[]> _stop = new("--stop") { Description = "Stop when the text contains this string (repeatable)", AllowMultipleArgumentsPerToken = false };
    private readonly Option<bool> _ignoreEos = new("--ignore-eos") { Description = "Keep generating past the end-of-sequence token" };
    private readonly Option<int?> _chunkSize = new("--chunk-size") { Description = "Prefill the prompt in chunks of this many tokens (default: in one piece)" };

    public SamplingCliOptions(int defaultMaxTokens, float defaultTemperature)
    {
        _maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens to generate at most", DefaultValueFactory = _ => defaultMaxTokens };
        _temperature = new Option<float>("--temperature", "-t") { Description = "Sampling temperature (0 = greedy)", DefaultValueFactory = _ => defaultTemperature };
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _maxTokens, _temperature, _topP, _topK, _minP, _repeatPenalty, _seed, _stop, _ignoreEos, _chunkSize })
            command.Options.Add(option);
    }

    public IReadOnlyList<string> StopStrings(ParseResult parse) => parse.GetValue(_stop) ?? [];

    /// <summary>The seed the user gave, or a fresh one (reported so the run can be repeated).</summary>
    public ulong Seed(ParseResult parse) => parse.GetValue(_seed) ?? (ulong)Random.Shared.NextInt64();

    /// <param name="room">
    /// the positions the model has left after the prompt when it has a hard limit (<c>IModelConfig.PositionLimit</c>):
    /// the default --max-tokens shrinks to it, while an explicit one beyond it is refused by the generator.
    /// </param>
    public GenerationOptions Generation(ParseResult parse, ulong seed, int? eosId, int? room = null)
    {
        int maxTokens = parse.GetValue(_maxTokens);
        if (room is int left && parse.GetResult(_maxTokens) is null or { Implicit: true })
            maxTokens = Math.Min(maxTokens, Math.Max(0, left));
        var sampling = new SamplingOptions(
            Temperature: parse.GetValue(_temperature),
            TopK: parse.GetValue(_topK),
            TopP: parse.GetValue(_topP),
            MinP: parse.GetValue(_minP),
            RepetitionPenalty: parse.GetValue(_repeatPenalty),
            Seed: seed);
        var options = new GenerationOptions
        {
            MaxTokens = maxTokens,
            Sampling = sampling,
            ChunkSize = parse.GetValue(_chunkSize),
            EosId = parse.GetValue(_ignoreEos) ? null : eosId,
        };
        options.Validate(); // before anything is printed
        return options;
    }
}
