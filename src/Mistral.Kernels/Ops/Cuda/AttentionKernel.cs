using Mistral.Kernels.Device;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launcher of kernels/cu/attention.cu: sliding-window flash attention over any number of queries per sequence
/// (prefill, chunked prefill reading the rolling cache, training forward). Same semantics as
/// <see cref="IOps.AttentionForward"/>; one block per 64 queries of one head of one sequence.
/// </summary>
public static class AttentionKernel
{
    public const int QueriesPerBlock = 64;
    public const int ThreadsPerBlock = 128;

    /// <summary>Head dims with an entry point (the kernel keeps a warp's Q and O in registers, sized at compile time);
    /// 8 (the tiny GPT-2) pads Q·Kᵀ to one 16-wide step with zeros.</summary>
    public static IReadOnlyList<int> HeadDims { get; } = [8, 16, 32, 64, 128];

    public static string EntryPoint(AttentionOperands operands, int headDim) =>
        $"attention_prefill_forward_{AttentionOperands.Suffix(operands.DType)}_hd{headDim}";

    public static void Forward(IDevice device, AttentionOperands operands, AttentionSequences sequences, AttentionConfig config)
    {
        operands.Validate("attention forward", config);
        if (!HeadDims.Contains(config.HeadDim))
            throw new NotSupportedException($"attention forward: no kernel for head dim {config.HeadDim} (have {string.Join(", ", HeadDims)})");
        if (sequences.MaxLength == 0) return;

        var args = new KernelArgs();
        args.Add(operands.Q);
        args.Add(operands.K);
        args.Add(operands.V);
        args.Add(operands.CacheK);
        args.Add(operands.CacheV);
        args.Add(sequences.Table);
        args.Add(sequences.TotalTokens);
        args.Add(config.NHeads);
        args.Add(config.NKvHeads);
        args.Add(config.Window);
        args.Add(operands.Slots);
        args.Add(config.Scale);
        args.Add(operands.Y);
        args.Add(operands.Lse);
        var grid = new Dim3(CeilDiv(sequences.MaxLength, QueriesPerBlock), (uint)config.NHeads, (uint)sequences.Count);
        device.Launch(EntryPoint(operands, config.HeadDim), grid, ThreadsPerBlock, 0, args);
    }

    internal static uint CeilDiv(long a, long b) => checked((uint)((a + b - 1) / b));
}
