using System.Text;
using Mistral.Serving.Engine;

namespace Mistral.Serving.Http;

/// <summary>One choice of a non-streamed response, gathered from its sequence's events.</summary>
internal sealed class ChoiceResult
{
    public StringBuilder Text { get; } = new();
    public List<LogprobEntry> Logprobs { get; } = [];
    public SequenceEnd? End { get; private set; }
    public int GeneratedTokens { get; private set; }
    public string? Error { get; private set; }

    public void Add(SequenceEvent e)
    {
        Text.Append(e.Text);
        if (e.Logprob is not null) Logprobs.Add(e.Logprob);
        if (e.End is { } end)
        {
            End = end;
            GeneratedTokens = e.GeneratedTokens;
            Error = e.Error;
        }
    }

    /// <summary>Gathers every event of the run into one result per choice; a failed sequence fails the request (500).</summary>
    public static async Task<ChoiceResult[]> CollectAsync(RequestRun run, CancellationToken cancel)
    {
        var choices = run.Sequences.Select(_ => new ChoiceResult()).ToArray();
        await foreach (var e in run.EventsAsync(cancel)) choices[e.Index].Add(e);
        if (choices.FirstOrDefault(c => c.End == SequenceEnd.Failed) is { } failed)
            throw new OpenAiException(500, $"The model failed while generating: {failed.Error}", "server_error");
        cancel.ThrowIfCancellationRequested(); // the client went away: nobody to answer
        if (choices.Any(c => c.End == SequenceEnd.Cancelled))
            throw new OpenAiException(503, "The server is shutting down.", "server_error");
        return choices;
    }
}
