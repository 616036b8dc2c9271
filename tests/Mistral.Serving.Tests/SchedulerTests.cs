using System.Threading.Channels;
using Mistral.Runtime.Tokenizer;
using Mistral.Serving.Engine;
using Mistral.Serving.Metrics;
using Mistral.Testing;
using Xunit;

namespace Mistral.Serving.Tests;

/// <summary>The scheduler's bookkeeping against a stand-in model that records every step it is asked to run.</summary>
public sealed class SchedulerTests
{
    /// <summary>Greedy always picks token <see cref="Chosen"/>; each step sleeps a little so that later submissions meet running sequences.</summary>
    private sealed class RecordingLm(int rows) : IServingLm
    {
        public const int Chosen = 5;
        public List<(int[] Rows, int[] Lengths)> Steps { get; } = [];
        public int VocabSize => 8;
        public int Rows => rows;
        public int MaxSequenceLength => 1000;
        public void ResetRow(int row) { }

        public void Forward(ReadOnlySpan<int> tokens, IReadOnlyList<int> stepRows, IReadOnlyList<int> lengths, bool allTokens, Span<float> logits)
        {
            lock (Steps) Steps.Add(([.. stepRows], [.. lengths]));
            logits.Clear();
            int count = allTokens ? tokens.Length : stepRows.Count;
            for (int i = 0; i < count; i++) logits[i * VocabSize + Chosen] = 1f;
            Thread.Sleep(2);
        }

        public void Dispose() { }
    }

    private static readonly ITokenizer Tokenizer = TokenizerFiles.Load(Fixtures.TinyNative);

    private static (Sequence Sequence, Channel<SequenceEvent> Events) Make(int promptLength, int maxTokens)
    {
        var events = Channel.CreateUnbounded<SequenceEvent>();
        var prompt = Enumerable.Range(10, promptLength).ToArray();
        return (new Sequence(0, prompt, new SequenceSettings { MaxTokens = maxTokens }, Tokenizer, events.Writer), events);
    }

    private static async Task<SequenceEvent> LastEventAsync(Channel<SequenceEvent> events)
    {
        while (true)
        {
            var e = await events.Reader.ReadAsync();
            if (e.End is not null) return e;
        }
    }

    [Fact]
    public async Task Step_LongPromptJoiningDecode_PrefilledInFixedChunksBesideEveryDecodeStepWithinTheBudget()
    {
        using var lm = new RecordingLm(rows: 4);
        using var scheduler = new Scheduler(lm, new SchedulerOptions { PrefillChunk = 4, StepTokens = 6 }, new ServingMetrics());
        var (a, aEvents) = Make(promptLength: 3, maxTokens: 40);
        Assert.True(scheduler.TrySubmit([a]));
        await aEvents.Reader.WaitToReadAsync(TestContext.Current.CancellationToken);                          // a is decoding
        var (b, bEvents) = Make(promptLength: 17, maxTokens: 3);
        Assert.True(scheduler.TrySubmit([b]));
        var bEnd = await LastEventAsync(bEvents);
        await LastEventAsync(aEvents);

        Assert.Equal(SequenceEnd.Length, bEnd.End);
        Assert.Equal(3, bEnd.GeneratedTokens);
        List<(int[] Rows, int[] Lengths)> steps;
        lock (lm.Steps) steps = [.. lm.Steps];
        const int bRow = 1;                                              // a took row 0, b the next free row
        var bSteps = steps.Where(s => s.Rows.Contains(bRow)).ToList();
        var bChunks = bSteps.Select(s => s.Lengths[Array.IndexOf(s.Rows, bRow)]).TakeWhile(l => l > 1).ToList();
        Assert.Equal([4, 4, 4, 4], bChunks);                             // then 1 token (17 = 4·4 + 1), then decode
        Assert.All(bSteps.Take(5), s => Assert.Contains(0, s.Rows));     // a decoded in every one of b's prefill steps
        Assert.All(steps, s => Assert.True(s.Lengths.Sum() <= 6, $"a step of {s.Lengths.Sum()} tokens"));
        Assert.Equal(0, scheduler.LiveRows);
    }

    [Fact]
    public async Task Cancel_RunningAndWaiting_RowsFreedAndEndedAsCancelled()
    {
        using var lm = new RecordingLm(rows: 1);
        using var scheduler = new Scheduler(lm, new SchedulerOptions(), new ServingMetrics());
        var (running, runningEvents) = Make(promptLength: 2, maxTokens: 500);
        var (waiting, waitingEvents) = Make(promptLength: 2, maxTokens: 500);
        Assert.True(scheduler.TrySubmit([running]));
        await runningEvents.Reader.WaitToReadAsync(TestContext.Current.CancellationToken);
        Assert.True(scheduler.TrySubmit([waiting]));
        Assert.Equal(1, scheduler.QueueDepth);
        waiting.Cancel();
        running.Cancel();
        scheduler.Poke();
        Assert.Equal(SequenceEnd.Cancelled, (await LastEventAsync(runningEvents)).End);
        Assert.Equal(SequenceEnd.Cancelled, (await LastEventAsync(waitingEvents)).End);
        Assert.Equal(0, scheduler.LiveRows);
        Assert.Equal(0, scheduler.QueueDepth);
    }

    [Fact]
    public void TrySubmit_MoreThanRowsPlusQueue_RefusedWhole()
    {
        using var lm = new RecordingLm(rows: 2);
        using var scheduler = new Scheduler(lm, new SchedulerOptions { MaxQueue = 1 }, new ServingMetrics());
        var four = Enumerable.Range(0, 4).Select(_ => Make(2, 1).Sequence).ToList();
        Assert.False(scheduler.TrySubmit(four));
        Assert.Equal(0, scheduler.QueueDepth);
    }
}
