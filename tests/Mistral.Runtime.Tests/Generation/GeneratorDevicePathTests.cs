using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Mistral.Testing.Devices;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Generation;

/// <summary>
/// Greedy generation without logprobs on a device takes the on-device argmax path (DecodeGraph): no logits tensor is
/// downloaded, and the tokens, finish reasons and callbacks are those of the CPU host path and of the fixture reference.
/// </summary>
public sealed class GeneratorDevicePathTests(TinyModel cpu) : IClassFixture<TinyModel>
{
    private static readonly GenerationOptions Greedy20 = new() { MaxTokens = 20, TokenLogprobs = false };

    [Theory]
    [InlineData("emu")]
    [InlineData("cuda")]
    public void Greedy_Fp32_ThreePrompts_ReferenceTokens_OnlyIdsCrossToTheHost(string deviceKind)
    {
        var prompts = TinyModel.ReferencePrompts();
        var expected = TinyModel.ReferenceInts("greedy.safetensors", "generated");   // [3, 20]
        // the default cache is smaller than the longest sequence, so the decode steps wrap it
        Assert.True(RollingKvCache.SlotsFor(cpu.Config, prompts.Max(p => p.Length), 20) < prompts.Max(p => p.Length) + 20);
        using var ops = new CudaOps(TestDevices.Open(deviceKind), DType.F32, ownsDevice: true);
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);

        var onDevice = new Generator(model.Model).Generate(prompts, Greedy20);
        var onHost = new Generator(cpu.Model).Generate(prompts, Greedy20);

        Assert.Equal(DecodePath.DeviceArgmax, onDevice.Path);
        Assert.Equal(0, onDevice.LogitsDownloads);
        Assert.Equal(DecodePath.HostLogits, onHost.Path);
        Assert.Equal(20, onHost.LogitsDownloads);   // 1 prefill + 19 decode steps
        for (int b = 0; b < prompts.Length; b++)
        {
            Assert.Equal(expected[(b * 20)..((b + 1) * 20)], onDevice.Sequences[b].Tokens);
            Assert.Equal(onHost.Sequences[b].Tokens, onDevice.Sequences[b].Tokens);
            Assert.Equal(FinishReason.Length, onDevice.Sequences[b].Finish);
            Assert.Empty(onDevice.Sequences[b].Logprobs);
        }
        Assert.Equal(60, onDevice.Timings.GeneratedTokens);
        Assert.Equal(prompts.Sum(p => p.Length), onDevice.Timings.PromptTokens);
    }

    [Fact]
    public void Emu_SequencesLeavingTheBatch_ChunkedPrefill_MatchTheHostPath()
    {
        // Sequence 0 stops at EOS (its 4th greedy token), sequence 1 when the callback says so after 7 tokens,
        // sequence 2 runs to MaxTokens: the device path rebuilds its decode step for each smaller batch.
        var prompts = TinyModel.ReferencePrompts();
        var greedy = TinyModel.ReferenceInts("greedy.safetensors", "generated");
        int eos = greedy[3];
        Assert.DoesNotContain(eos, greedy[..3]);
        var options = Greedy20 with { EosId = eos, ChunkSize = 2 };
        using var ops = new CudaOps(TestDevices.Open("emu"), DType.F32, ownsDevice: true);
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);

        (GenerationResult Result, List<(int, int)> Seen) Run(ICausalLm transformer)
        {
            var seen = new List<(int, int)>();
            var result = new Generator(transformer).Generate(prompts, options, (b, token) =>
            {
                seen.Add((b, token));
                return b != 1 || seen.Count(s => s.Item1 == 1) < 7;
            });
            return (result, seen);
        }
        var (onDevice, deviceSeen) = Run(model.Model);
        var (onHost, hostSeen) = Run(cpu.Model);

        Assert.Equal(DecodePath.DeviceArgmax, onDevice.Path);
        Assert.Equal(0, onDevice.LogitsDownloads);
        Assert.Equal(hostSeen, deviceSeen);   // same tokens, same interleaving of the callbacks
        Assert.Equal(greedy[..4], onDevice.Sequences[0].Tokens);
        Assert.Equal([FinishReason.Eos, FinishReason.Stop], onDevice.Sequences.Take(2).Select(s => s.Finish));
        Assert.Equal(7, onDevice.Sequences[1].Tokens.Length);
        for (int b = 0; b < prompts.Length; b++)
        {
            Assert.Equal(onHost.Sequences[b].Tokens, onDevice.Sequences[b].Tokens);
            Assert.Equal(onHost.Sequences[b].Finish, onDevice.Sequences[b].Finish);
        }
    }

    [Fact]
    public void Emu_LogprobsOrPenaltyOrSampling_KeepTheHostPath()
    {
        using var ops = new CudaOps(TestDevices.Open("emu"), DType.F32, ownsDevice: true);
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);
        var generator = new Generator(model.Model);
        int[][] prompt = [TinyModel.ReferencePrompts()[0]];
        var withLogprobs = generator.Generate(prompt, Greedy20 with { MaxTokens = 3, TokenLogprobs = true });
        Assert.Equal(DecodePath.HostLogits, withLogprobs.Path);
        Assert.Equal(3, withLogprobs.LogitsDownloads);
        Assert.Equal(3, withLogprobs.Sequences[0].Logprobs.Length);
        Assert.Equal(DecodePath.HostLogits, generator.Generate(prompt, Greedy20 with
        {
            MaxTokens = 3, Sampling = new SamplingOptions(RepetitionPenalty: 1.3f),
        }).Path);
        Assert.Equal(DecodePath.HostLogits, generator.Generate(prompt, Greedy20 with
        {
            MaxTokens = 3, Sampling = new SamplingOptions(Temperature: 0.8f),
        }).Path);
    }
}
