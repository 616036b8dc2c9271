using System.Diagnostics;
using System.Runtime.InteropServices;
using Mistral.Serving.Metrics;

namespace Mistral.Serving.Engine;

/// <summary>
/// Continuous batching (iteration-level scheduling, as vLLM and TGI do): one thread runs the model step after step;
/// between steps it drops cancelled sequences, admits waiting ones into free cache rows, then builds the next step
/// from one decode token of every running sequence plus prompt chunks of the ones still prefilling, within a token
/// budget. A sequence that finishes frees its row at once. Each sequence's prompt is cut at fixed offsets and every
/// op works row by row, so a sequence computes the same numbers whatever shares its steps.
/// </summary>
public sealed class Scheduler : IDisposable
{
    private readonly IServingLm _lm;
    private readonly SchedulerOptions _options;
    private readonly ServingMetrics _metrics;
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly Lock _lock = new();
    private readonly List<Sequence> _running = [];
    private readonly Stack<int> _freeRows;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _thread;
    private float[] _logits = [];
    private volatile bool _stopping;
    private int _liveRows;

    /// <param name="lm">not owned.</param>
    public Scheduler(IServingLm lm, SchedulerOptions options, ServingMetrics metrics)
    {
        options.Validate();
        _lm = lm;
        _options = options;
        _metrics = metrics;
        _freeRows = new Stack<int>(Enumerable.Range(0, lm.Rows).Reverse());
        metrics.QueueDepth = () => QueueDepth;
        metrics.RunningBatch = () => LiveRows;
        _thread = new Thread(Loop) { IsBackground = true, Name = "mistral-cu scheduler" };
        _thread.Start();
    }

    /// <summary>Cache rows held by sequences now: 0 once every request has finished or been cancelled.</summary>
    public int LiveRows => Volatile.Read(ref _liveRows);

    /// <summary>Sequences waiting for a row.</summary>
    public int QueueDepth
    {
        get { lock (_lock) return _waiting.Count; }
    }

    /// <summary>Longest prompt + generated tokens a sequence may reach.</summary>
    public int MaxSequenceLength => _lm.MaxSequenceLength;

    /// <summary>Queues the sequences of one request, all or none: false when the queue has no room for them.</summary>
    public bool TrySubmit(IReadOnlyList<Sequence> sequences)
    {
        lock (_lock)
        {
            if (_stopping || _waiting.Count + sequences.Count > _options.MaxQueue + FreeRowsEstimate()) return false;
            foreach (var s in sequences)
            {
                s.SubmittedAt = Stopwatch.GetTimestamp();
                _waiting.AddLast(s);
            }
        }
        _wake.Release();
        return true;
    }

    /// <summary>Wakes the loop so that cancelled sequences are dropped now rather than at the next step.</summary>
    public void Poke() => _wake.Release();

    // Rows that will take waiting sequences at the next admission do not count against the queue.
    private int FreeRowsEstimate() => _lm.Rows - LiveRows;

    private void Loop()
    {
        while (!_stopping)
        {
            try
            {
                DropCancelled();
                Admit();
                if (_running.Count == 0)
                {
                    _wake.Wait(TimeSpan.FromSeconds(1));
                    continue;
                }
                Step();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A bug in the bookkeeping must not leave clients waiting on a dead loop: fail what runs, go on.
                foreach (var s in _running.ToList()) Release(s, SequenceEnd.Failed, e.Message);
            }
        }
        // Shutting down: nobody will run what is left.
        foreach (var s in _running) s.End(SequenceEnd.Cancelled);
        lock (_lock)
        {
            foreach (var s in _waiting) s.End(SequenceEnd.Cancelled);
            _waiting.Clear();
        }
    }

    private void DropCancelled()
    {
        for (int i = _running.Count - 1; i >= 0; i--)
            if (_running[i].IsCancelled) Release(_running[i], SequenceEnd.Cancelled);
        lock (_lock)
        {
            for (var node = _waiting.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.IsCancelled)
                {
                    node.Value.End(SequenceEnd.Cancelled);
                    _waiting.Remove(node);
                }
                node = next;
            }
        }
    }

    private void Admit()
    {
        while (_freeRows.Count > 0)
        {
            Sequence s;
            lock (_lock)
            {
                if (_waiting.First is null) return;
                s = _waiting.First.Value;
                _waiting.RemoveFirst();
            }
            if (s.Settings.MaxTokens == 0 && !s.Settings.PromptLogprobs)
            {
                s.End(SequenceEnd.Length); // nothing to compute
                continue;
            }
            s.Row = _freeRows.Pop();
            _lm.ResetRow(s.Row);
            _running.Add(s);
            Interlocked.Increment(ref _liveRows);
        }
    }

    /// <summary>One forward over every decoding sequence and as many prompt chunks as the budget allows.</summary>
    private void Step()
    {
        var step = new List<(Sequence Seq, int Length)>();
        var tokens = new List<int>();
        foreach (var s in _running.Where(s => s.InDecode))
        {
            step.Add((s, 1));
            tokens.Add(s.History[^1]);
        }
        int budget = _options.StepTokens - tokens.Count;
        bool anyChunk = false;
        foreach (var s in _running.Where(s => !s.InDecode))
        {
            int length = Math.Min(_options.PrefillChunk, s.Prompt.Length - s.Prefilled);
            if (anyChunk && length > budget) break;
            step.Add((s, length));
            tokens.AddRange(s.Prompt.AsSpan(s.Prefilled, length));
            budget -= length;
            anyChunk = true;
        }

        bool allTokens = step.Any(e => !e.Seq.InDecode && e.Seq.Settings.PromptLogprobs);
        int vocab = _lm.VocabSize, logitRows = allTokens ? tokens.Count : step.Count;
        if (_logits.Length < logitRows * vocab) _logits = new float[logitRows * vocab];
        try
        {
            _lm.Forward(tokens.ToArray(), step.Select(e => e.Seq.Row).ToList(), step.Select(e => e.Length).ToList(), allTokens, _logits);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            foreach (var (s, _) in step) Release(s, SequenceEnd.Failed, e.Message);
            return;
        }

        int tokenOffset = 0;
        for (int i = 0; i < step.Count; i++)
        {
            var (s, length) = step[i];
            int lastRow = allTokens ? tokenOffset + length - 1 : i;
            if (!s.InDecode)
            {
                if (allTokens && s.Settings.PromptLogprobs) ScorePrompt(s, tokenOffset, length);
                s.Prefilled += length;
                _metrics.CountPromptTokens(length);
            }
            tokenOffset += length;
            if (s.InDecode) Next(s, _logits.AsSpan(lastRow * vocab, vocab));
        }
    }

    /// <summary>Prompt token p + 1 is scored by the logits of position p (rows of this chunk in the [T, V] logits).</summary>
    private void ScorePrompt(Sequence s, int tokenOffset, int length)
    {
        int vocab = _lm.VocabSize, top = s.Settings.TopLogprobs ?? 0;
        for (int t = 0; t < length; t++)
        {
            int position = s.Prefilled + t;
            if (position + 1 >= s.Prompt.Length) break;
            s.PromptLogprobs![position + 1] = LogprobEntry.From(_logits.AsSpan((tokenOffset + t) * vocab, vocab), s.Prompt[position + 1], top);
        }
    }

    /// <summary>Chooses the sequence's next token from its last logits, hands it out, and ends the sequence when it is done.</summary>
    private void Next(Sequence s, ReadOnlySpan<float> logits)
    {
        if (s.Generated == s.Settings.MaxTokens)
        {
            Release(s, SequenceEnd.Length); // max_tokens 0: the prompt was only scored
            return;
        }
        int token = s.Sampler.Sample(logits, CollectionsMarshal.AsSpan(s.History));
        var logprob = s.Settings.TopLogprobs is int top ? LogprobEntry.From(logits, token, top) : null;
        long now = Stopwatch.GetTimestamp();
        if (s.Generated == 0) _metrics.TimeToFirstToken.Observe(Stopwatch.GetElapsedTime(s.SubmittedAt, now).TotalSeconds);
        else _metrics.TimePerOutputToken.Observe(Stopwatch.GetElapsedTime(s.LastTokenAt, now).TotalSeconds);
        s.LastTokenAt = now;
        _metrics.CountGeneratedToken();

        bool isStop = s.Settings.StopTokenIds.Contains(token);
        bool goOn = s.Emit(token, logprob, isStop);
        if (isStop || !goOn) Release(s, SequenceEnd.Stop);
        else if (s.Generated == s.Settings.MaxTokens || s.History.Count >= _lm.MaxSequenceLength) Release(s, SequenceEnd.Length);
    }

    /// <summary>Ends a running sequence and frees its row for the next admission.</summary>
    private void Release(Sequence s, SequenceEnd end, string? error = null)
    {
        s.End(end, error);
        _running.Remove(s);
        _freeRows.Push(s.Row);
        s.Row = -1;
        Interlocked.Decrement(ref _liveRows);
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Release();
        _thread.Join();
        _wake.Dispose();
    }
}
