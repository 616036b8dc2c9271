using System.Threading.Channels;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Serving.Engine;
using Mistral.Serving.Metrics;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Serving.Tests;

/// <summary>
/// The scheduler on the CUDA code path (the emulated device, fp32): sequences in arbitrary cache rows, reused rows,
/// ragged prefill chunks beside decode steps. Greedy tokens alone equal greedy tokens together, exactly.
/// </summary>
public sealed class EmulatedDeviceSchedulerTests
{
    private static async Task<int[]> TokensAsync(ChannelReader<SequenceEvent> events)
    {
        var tokens = new List<int>();
        while (true)
        {
            var e = await events.ReadAsync(TestContext.Current.CancellationToken);
            if (e.Token is int t) tokens.Add(t);
            if (e.End is not null) return [.. tokens];
        }
    }

    [Fact]
    public async Task Emu_Fp32_SequencesTogetherAndStaggered_SameGreedyTokensAsAlone()
    {
        using var ops = new CudaOps(TestDevices.Open("emu"), DType.F32, ownsDevice: true);
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);
        var tokenizer = model.RequireTokenizer();
        using var lm = new CausalLmServingLm(model.Model, rows: 3);
        using var scheduler = new Scheduler(lm, new SchedulerOptions { PrefillChunk = 3, StepTokens = 6 }, new ServingMetrics());
        string[] texts = ["The llama", "A quick brown fox jumps", "Hello", "Once upon a time there was"];
        var prompts = texts.Select(t => tokenizer.Encode(t, bos: true)).ToArray();
        var settings = new SequenceSettings { MaxTokens = 6 };

        Sequence Make(int i, Channel<SequenceEvent> channel) => new(i, prompts[i], settings, tokenizer, channel.Writer);
        var alone = new int[prompts.Length][];
        for (int i = 0; i < prompts.Length; i++)
        {
            var channel = Channel.CreateUnbounded<SequenceEvent>();
            Assert.True(scheduler.TrySubmit([Make(i, channel)]));
            alone[i] = await TokensAsync(channel.Reader);
        }

        // Four sequences for three rows: the fourth waits, then takes a row another has just freed; the second joins
        // once the first is decoding.
        var channels = prompts.Select(_ => Channel.CreateUnbounded<SequenceEvent>()).ToArray();
        Assert.True(scheduler.TrySubmit([Make(0, channels[0])]));
        await channels[0].Reader.WaitToReadAsync(TestContext.Current.CancellationToken);
        Assert.True(scheduler.TrySubmit([Make(1, channels[1]), Make(2, channels[2]), Make(3, channels[3])]));
        var together = await Task.WhenAll(channels.Select(c => TokensAsync(c.Reader)));

        for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i], together[i]);
        Assert.All(together, t => Assert.Equal(6, t.Length));
        Assert.Equal(0, scheduler.LiveRows);
    }
}
