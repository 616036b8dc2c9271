using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

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

    /// <summary>Head dims with an entry point (the kernel keeps a warp's O accumulator in registers, sized at compile time);
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
        device.Launch(EntryPoint(operands, config.HeadDim), grid, ThreadsPerBlock, SharedBytes(operands.DType, config.HeadDim), args);
    }

    /// <summary>Keys per shared-memory tile of each entry point (the BK of attention.cu's wrappers).</summary>
    private static int KeysPerTile(DType dtype, int headDim) => dtype == DType.BF16 && headDim < 128 ? 64 : 32;

    /// <summary>
    /// Dynamic shared memory of one block, as attention.cu's AttentionPrefillShape lays it out: the Q tile and two
    /// K and two V tiles (double-buffered), rows padded (bf16: to an odd number of 16-byte units, for ldmatrix without
    /// bank conflicts; fp32: 8 extra floats for Q/K rows, 4 for V rows). Above 48 KiB the device opts the kernel in.
    /// </summary>
    public static int SharedBytes(DType dtype, int headDim)
    {
        int keys = KeysPerTile(dtype, headDim), dk = Math.Max(headDim, 16);
        bool bf16 = dtype == DType.BF16;
        int qkStride = bf16 ? (dk / 8 | 1) * 8 : dk + 8;
        int vStride = bf16 ? (headDim / 8 | 1) * 8 : headDim + 4;
        return (QueriesPerBlock * qkStride + 2 * keys * qkStride + 2 * keys * vStride) * dtype.SizeOf();
    }

    internal static uint CeilDiv(long a, long b) => checked((uint)((a + b - 1) / b));
}
