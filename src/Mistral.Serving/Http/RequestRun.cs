using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>
/// The sequences of one HTTP request (n choices of each prompt, choice index = prompt · n + j) submitted to the
/// scheduler, and their events in arrival order. A client that goes away cancels them: the scheduler frees their rows
/// before its next step. Disposing cancels whatever has not ended (a handler that failed halfway).
/// </summary>
internal sealed class RequestRun : IDisposable
{
    private readonly Channel<SequenceEvent> _events = Channel.CreateUnbounded<SequenceEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<Sequence> _sequences = [];
    private readonly ServedModel _model;
    private readonly CancellationTokenRegistration _onAbort;

    public RequestRun(ServedModel model, IReadOnlyList<int[]> prompts, GenerationParameters parameters, bool promptLogprobs, string promptParam, CancellationToken aborted)
    {
        _model = model;
        int limit = model.Scheduler.MaxSequenceLength;
        for (int p = 0; p < prompts.Count; p++)
        {
            var prompt = prompts[p];
            if (prompt.Length == 0) throw OpenAiException.BadRequest("The prompt is empty.", promptParam);
            int maxTokens = parameters.MaxTokens ?? limit - prompt.Length;
            if (prompt.Length + Math.Max(maxTokens, 1) > limit)
                throw OpenAiException.BadRequest(
                    $"This model's maximum context length is {limit} tokens. However, you requested {prompt.Length + maxTokens} tokens " +
                    $"({prompt.Length} in the prompt, {maxTokens} for the completion). Please reduce the prompt or the completion length.",
                    promptParam, "context_length_exceeded");
            for (int j = 0; j < parameters.N; j++)
            {
                var settings = new SequenceSettings
                {
                    MaxTokens = maxTokens,
                    Sampling = parameters.Sampling,
                    SamplerStream = j,
                    StopStrings = parameters.Stop,
                    StopTokenIds = parameters.IgnoreEos ? [] : model.StopTokenIds,
                    TopLogprobs = parameters.TopLogprobs,
                    PromptLogprobs = promptLogprobs,
                };
                _sequences.Add(new Sequence(p * parameters.N + j, prompt, settings, model.Tokenizer, _events.Writer));
            }
        }
        if (!model.Scheduler.TrySubmit(_sequences))
            throw new OpenAiException(429, $"The server is busy: its queue of waiting requests is full ({model.Scheduler.QueueDepth} sequences). Retry later.", "server_error", null, "queue_full");
        _onAbort = aborted.Register(Cancel);
    }

    public IReadOnlyList<Sequence> Sequences => _sequences;

    /// <summary>Every event of every sequence, until each has ended.</summary>
    public async IAsyncEnumerable<SequenceEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancel = default)
    {
        int open = _sequences.Count;
        while (open > 0)
        {
            var e = await _events.Reader.ReadAsync(cancel);
            if (e.End is not null) open--;
            yield return e;
        }
    }

    private void Cancel()
    {
        foreach (var s in _sequences) s.Cancel();
        _model.Scheduler.Poke();
    }

    public void Dispose()
    {
        _onAbort.Dispose();
        Cancel();
    }
}
