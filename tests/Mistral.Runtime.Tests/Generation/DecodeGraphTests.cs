using Mistral.Kernels.Device;
using Mistral.Kernels.Ops;
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
/// The device decode step (inputs at fixed device addresses, argmax on the device, a CUDA graph on a GPU, eager on the
/// emulator) against the fixture's greedy generation: the 3 prompts in one batch, 20 steps, the 16-slot cache wrapping.
/// On the emulator twice: with graph capture (the step captured at its second call and replayed from then on, every call
/// a capturing stream refuses refused) and without (every step eager); both must give the reference's tokens.
/// </summary>
public sealed class DecodeGraphTests
{
    [Theory]
    [InlineData("emu")]
    [InlineData("emu-eager")]
    [InlineData("cuda")]
    public void Step_Fp32_ReproducesReferenceGreedyTokens(string deviceKind)
    {
        var prompts = TinyModel.ReferencePrompts();
        var expected = TinyModel.ReferenceInts("greedy.safetensors", "generated");   // [3, 20]
        const int steps = 20;
        var device = TestDevices.Open(deviceKind);
        using var ops = new CudaOps(device, DType.F32, ownsDevice: true);
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);
        var config = model.Config;
        int slots = RollingKvCache.SlotsFor(config, prompts.Max(p => p.Length), steps);
        using var cache = new RollingKvCache(ops, config, prompts.Length, slots);
        int[] rows = [0, 1, 2];

        // prefill all prompts in one call; the first token of each is the argmax of its last logits
        var batch = cache.NextBatch(rows, prompts.Select(p => p.Length).ToArray());
        var logits = model.Model.Forward(prompts.SelectMany(p => p).ToArray(), batch, cache, LogitsFor.LastTokens);
        using var ids = ops.Allocate(new Shape(prompts.Length), DType.I32);
        ops.Argmax(logits, ids);
        var next = new int[prompts.Length];
        ops.Download(ids, next);

        using var step = new DecodeGraph(model.Model, ops, cache, rows);
        var generated = new int[prompts.Length, steps];
        long segmentsAfterFirstStep = 0, waitsAfterCapture = 0;
        for (int s = 0; s < steps; s++)
        {
            for (int b = 0; b < prompts.Length; b++) generated[b, s] = next[b];
            if (s == steps - 1) break;
            next = step.Step(next);
            if (s != 1) continue;
            segmentsAfterFirstStep = ops.Pool.SegmentCount;
            waitsAfterCapture = Waits(device);
        }
        for (int b = 0; b < prompts.Length; b++)
            Assert.Equal(expected.AsSpan(b * steps, steps).ToArray(), Enumerable.Range(0, steps).Select(s => generated[b, s]).ToArray());
        Assert.Equal(segmentsAfterFirstStep, ops.Pool.SegmentCount);   // later steps took no memory from the driver
        Assert.Null(step.CaptureError);                             // nothing in the step was refused by the capture
        Assert.Equal(device.GraphCapture is not null, step.IsCaptured);
        // Per step the host waits once, for the chosen ids: the device writes the next inputs (argmax, advance), and any
        // upload is stream-ordered.
        if (device is EmulatedDevice) Assert.Equal(steps - 3, Waits(device) - waitsAfterCapture);
    }

    private static long Waits(IDevice device) => device is EmulatedDevice emulated ? emulated.Synchronizations : 0;

    /// <summary>
    /// The launches of one decode step of tiny-mistral (2 layers, 3 sequences), from the design in kernels/README.md
    /// ("Decode, batch 1"). Per layer 11: attention_norm, the q|k|v GEMV (one launch for three weights), RoPE of q
    /// and of k, decode attention (split and combine), the cache append, the wo GEMV with the residual add in its
    /// epilogue, ffn_norm, the w1|w3 GEMV with SwiGLU in its epilogue, the w2 GEMV with the residual add — 17 before
    /// the fusions (three projection GEMMs, two MLP GEMMs and a SwiGLU, two adds). Per step 5 more: the embedding,
    /// the final norm, the head GEMV, the argmax (into the next step's token ids) and the advance of positions and
    /// sequence table. No cuBLAS GEMM: 3 rows take the GEMV. Fed back its own ids, a step uploads nothing and
    /// downloads the ids once (4 host copies a step before: ids, positions, sequence table up, ids down).
    /// </summary>
    [Fact]
    public void Step_TinyMistralOnEmu_ElevenLaunchesPerLayerAndOneDownload()
    {
        var prompts = TinyModel.ReferencePrompts();
        var device = new CountingDevice(TestDevices.Emulated());
        using var ops = new CudaOps(device, DType.F32, ownsDevice: true);
        using var model = LoadedModel.Load(Fixtures.TinyNative, ops);
        using var cache = new RollingKvCache(ops, model.Config, prompts.Length, RollingKvCache.SlotsFor(model.Config, prompts.Max(p => p.Length), 4));
        int[] rows = [0, 1, 2];
        model.Model.Forward(prompts.SelectMany(p => p).ToArray(), cache.NextBatch(rows, prompts.Select(p => p.Length).ToArray()), cache, LogitsFor.LastTokens);
        using var step = new DecodeGraph(model.Model, ops, cache, rows);
        var next = step.Step([1, 2, 3]);   // the first step sizes the scratch buffers and runs eagerly

        device.Reset();
        step.Step(next);                   // issues the step once: eagerly, or into the graph it captures and replays

        Assert.Equal(2, model.Config.LayerCount);
        Assert.Equal(11 * 2 + 5, device.Launches.Count);
        Assert.Equal(0, device.Gemms);
        Assert.Equal(3 * 2 + 1, device.Launches.Count(k => k == "gemv_forward_f32"));   // q|k|v, wo, w2 per layer; the head
        Assert.Equal(2, device.Launches.Count(k => k == "gemv_swiglu_f32"));
        Assert.Equal(0, device.Uploads);
        Assert.Equal(1, device.Downloads);
    }
}

