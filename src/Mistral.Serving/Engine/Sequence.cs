using System.Diagnostics;
using System.Threading.Channels;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Tokenizer;

namespace Mistral.Serving.Engine;

/// <summary>
/// One sequence the scheduler runs: its prompt, settings and output channel, and (touched only by the scheduler's
/// thread) where it stands: its cache row, how much of the prompt is in the cache, the tokens so far, its own sampler
/// (seeded per request, so its draws do not depend on the batch) and its text stream (stop strings).
/// Several sequences of one request may share one output channel; each event carries the sequence's index.
/// </summary>
public sealed class Sequence
{
    private readonly ChannelWriter<SequenceEvent> _output;
    private readonly TextStreams _text;
    private string _pendingText = "";
    private int _cancelled;

    public Sequence(int index, int[] prompt, SequenceSettings settings, ITokenizer tokenizer, ChannelWriter<SequenceEvent> output)
    {
        if (prompt.Length == 0) throw new ArgumentException("a sequence needs at least one prompt token", nameof(prompt));
        Index = index;
        Prompt = prompt;
        Settings = settings;
        _output = output;
        Sampler = new Sampler(settings.Sampling, settings.SamplerStream);
        _text = new TextStreams(tokenizer, 1, settings.StopStrings, (_, delta) => _pendingText += delta);
        History = new List<int>(prompt);
        PromptLogprobs = settings.PromptLogprobs ? new LogprobEntry?[prompt.Length] : null;
    }

    public int Index { get; }
    public int[] Prompt { get; }
    public SequenceSettings Settings { get; }

    /// <summary>
    /// With <see cref="SequenceSettings.PromptLogprobs"/>: entry t scores prompt token t (entry 0 is null: nothing
    /// predicts the first token). Complete before the sequence's first event is written.
    /// </summary>
    public LogprobEntry?[]? PromptLogprobs { get; }

    public bool IsCancelled => Volatile.Read(ref _cancelled) != 0;

    /// <summary>Asks the scheduler to drop the sequence; it frees the row before its next step. Any thread.</summary>
    public void Cancel() => Interlocked.Exchange(ref _cancelled, 1);

    // The scheduler's state of the sequence (its thread only).
    internal int Row { get; set; } = -1;
    internal int Prefilled { get; set; }
    internal bool InDecode => Prefilled == Prompt.Length;
    internal List<int> History { get; }
    internal int Generated { get; private set; }
    internal Sampler Sampler { get; }
    internal long SubmittedAt { get; set; } = Stopwatch.GetTimestamp();
    internal long LastTokenAt { get; set; }

    /// <summary>Records a generated token and hands it to the reader; returns false when a stop string has appeared.</summary>
    internal bool Emit(int token, LogprobEntry? logprob, bool isStopToken)
    {
        History.Add(token);
        Generated++;
        // A stop token ends the text without being part of it.
        bool goOn = isStopToken || _text.OnToken(0, token);
        _output.TryWrite(new SequenceEvent(Index, TakePendingText()) { Token = token, Logprob = logprob });
        return goOn;
    }

    /// <summary>The last event: flushes held-back text (unless cancelled or failed) and reports the end.</summary>
    internal void End(SequenceEnd end, string? error = null)
    {
        string text = "";
        if (end is SequenceEnd.Length or SequenceEnd.Stop)
        {
            _text.Finish();
            text = TakePendingText();
        }
        _output.TryWrite(new SequenceEvent(Index, text) { End = end, GeneratedTokens = Generated, Error = error });
    }

    private string TakePendingText()
    {
        var text = _pendingText;
        _pendingText = "";
        return text;
    }
}
