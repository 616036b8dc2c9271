using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launcher of kernels/cu/attention_decode.cu: one query per sequence over its rolling cache, split into chunks of
/// <see cref="KeysPerSplit"/> keys (flash-decoding), then a combine. The grid depends only on the cache size and the
/// window, so a captured decode step replays unchanged; positions come from the sequence table.
/// </summary>
public static class AttentionDecodeKernel
{
    public const int KeysPerSplit = 128;
    public const int ThreadsPerBlock = 128;
    /// <summary>Query heads per kv head the split kernel holds in shared memory.</summary>
    public const int MaxGroupSize = 8;

    public static IReadOnlyList<int> HeadDims => AttentionKernel.HeadDims;

    /// <summary>Splits a step needs: the window's keys (at most min(Slots, W - 1) cached plus the token itself) in chunks.</summary>
    public static int Splits(AttentionConfig config, int slots) =>
        (int)AttentionKernel.CeilDiv((long)Math.Min(slots, config.Window - 1) + 1, KeysPerSplit);

    /// <summary>Bytes of fp32 workspace for <paramref name="sequences"/> sequences: partial outputs, maxima and sums.</summary>
    public static long WorkspaceBytes(AttentionConfig config, int slots, int sequences) =>
        (long)sequences * config.NHeads * Splits(config, slots) * (config.HeadDim + 2) * sizeof(float);

    /// <summary>Runs one decode step; every sequence of <paramref name="sequences"/> has length 1.</summary>
    public static void Forward(IDevice device, AttentionOperands operands, AttentionSequences sequences, AttentionConfig config,
        DeviceSpan<float> workspace)
    {
        operands.Validate("attention decode", config);
        if (!operands.HasCache) throw new ArgumentException("attention decode: needs the rolling cache (use the prefill kernel without one)");
        if (!HeadDims.Contains(config.HeadDim))
            throw new NotSupportedException($"attention decode: no kernel for head dim {config.HeadDim} (have {string.Join(", ", HeadDims)})");
        if (config.GroupSize > MaxGroupSize)
            throw new NotSupportedException($"attention decode: {config.GroupSize} query heads per kv head (at most {MaxGroupSize})");
        if (sequences.MaxLength != 1 || sequences.TotalTokens != sequences.Count)
            throw new ArgumentException($"attention decode: every sequence must bring exactly one token (batch of {sequences.Count} with {sequences.TotalTokens} tokens)");
        int splits = Splits(config, operands.Slots);
        long partials = (long)sequences.Count * config.NHeads * splits;
        if (workspace.ByteLength < WorkspaceBytes(config, operands.Slots, sequences.Count))
            throw new ArgumentException($"attention decode: workspace of {workspace.ByteLength} bytes, needs {WorkspaceBytes(config, operands.Slots, sequences.Count)}");
        var partialOut = workspace.Slice(0, partials * config.HeadDim);
        var partialMax = workspace.Slice(partials * config.HeadDim, partials);
        var partialSum = workspace.Slice(partials * (config.HeadDim + 1), partials);
        string suffix = AttentionOperands.Suffix(operands.DType);

        var split = new KernelArgs();
        split.Add(operands.Q);
        split.Add(operands.K);
        split.Add(operands.V);
        split.Add(operands.CacheK);
        split.Add(operands.CacheV);
        split.Add(sequences.Table);
        split.Add(config.NHeads);
        split.Add(config.NKvHeads);
        split.Add(config.Window);
        split.Add(operands.Slots);
        split.Add(splits);
        split.Add(config.Scale);
        split.Add(partialOut);
        split.Add(partialMax);
        split.Add(partialSum);
        device.Launch($"attention_decode_split_{suffix}_hd{config.HeadDim}",
            new Dim3((uint)splits, (uint)config.NKvHeads, (uint)sequences.Count), ThreadsPerBlock, 0, split);

        var combine = new KernelArgs();
        combine.Add(partialOut);
        combine.Add(partialMax);
        combine.Add(partialSum);
        combine.Add(sequences.Table);
        combine.Add(sequences.TotalTokens);
        combine.Add(config.NHeads);
        combine.Add(config.HeadDim);
        combine.Add(splits);
        combine.Add(operands.Y);
        combine.Add(operands.Lse);
        device.Launch($"attention_decode_combine_{suffix}", new Dim3((uint)config.NHeads, (uint)sequences.Count), ThreadsPerBlock, 0, combine);
    }

    /// <summary>
    /// Moves a decode step's inputs one token on, on the device after the step: every start position of the table
    /// <paramref name="sequences"/> and every positions[b] (I32 [B]) + 1 (attention_decode_advance).
    /// </summary>
    public static void Advance(IDevice device, AttentionSequences sequences, DeviceTensor positions)
    {
        const string op = "attention decode advance";
        Launch.DTypeIs(op, positions, DType.I32, "positions");
        Launch.Count(op, positions, sequences.Count, "positions");
        var args = new KernelArgs();
        args.Add(sequences.Table);
        args.Add(sequences.Count);
        args.Add(positions.Pointer);
        if (sequences.Count > 0) device.Launch("attention_decode_advance", Launch.CeilDiv(sequences.Count, ThreadsPerBlock), ThreadsPerBlock, 0, args);
    }
}
