using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launcher of kernels/cu/attention_backward.cu: the backward of a cache-free <see cref="IOps.AttentionForward"/>
/// (training), from the saved lse. Two kernels, each gradient element with one writer (deterministic, no atomics):
/// dq (one block per query tile of one head; also writes D = rowsum(dY ⊙ y) into the workspace) and then dkdv (one
/// block per key tile of one kv head, summing the group's query heads). bf16 runs on the tensor cores with 64 × 64 tiles
/// in dynamic shared memory, fp32 on scalar FMAs (kernels/README.md). Legend: T = tokens, H = heads, Hkv = kv heads.
/// </summary>
public static class AttentionBackwardKernel
{
    public const int ThreadsPerBlock = 128;

    /// <summary>Head dims with entry points (the same as the forward's).</summary>
    public static IReadOnlyList<int> HeadDims { get; } = [8, 16, 32, 64, 128];

    /// <summary>
    /// Queries (and keys) per tile. bf16: 64 on the tensor cores. fp32: the fp32 tiles of q, dY, k, v stay under
    /// 48 KiB of static shared memory.
    /// </summary>
    public static int TileFor(DType dtype, int headDim) => dtype == DType.BF16 ? 64 : headDim <= 64 ? 32 : 16;

    /// <summary>
    /// Dynamic shared memory of a launch: the bf16 kernels' AttentionBackwardMmaSmem (four 64-row bf16 tiles with rows
    /// of max(Dh, 16) + 8 elements, then lse and D of 64 queries in fp32); the fp32 kernels use static shared memory.
    /// </summary>
    public static int SharedBytes(DType dtype, int headDim) =>
        dtype == DType.BF16 ? 4 * 64 * (Math.Max(headDim, 16) + 8) * sizeof(ushort) + 2 * 64 * sizeof(float) : 0;

    /// <summary>Bytes of the workspace: D [H, T] in fp32.</summary>
    public static long WorkspaceBytes(AttentionConfig config, int totalTokens) => (long)config.NHeads * totalTokens * sizeof(float);

    /// <summary>
    /// dQ [T, H·Dh], dK, dV [T, Hkv·Dh] (overwritten, in the operands' dtype) from q, k, v, y, lse F32 [H, T] and dY.
    /// <paramref name="operands"/> carries q, k, v, y and lse (no cache); <paramref name="workspace"/> holds
    /// <see cref="WorkspaceBytes"/>.
    /// </summary>
    public static void Backward(IDevice device, AttentionOperands operands, ulong dY, AttentionSequences sequences, AttentionConfig config,
        DeviceSpan<float> workspace, ulong dQ, ulong dK, ulong dV)
    {
        const string op = "attention backward";
        operands.Validate(op, config);
        if (operands.HasCache) throw new ArgumentException($"{op}: backward is defined for cache-free attention only");
        if (operands.Lse == 0) throw new ArgumentException($"{op}: needs the lse saved by the forward");
        if (!HeadDims.Contains(config.HeadDim))
            throw new NotSupportedException($"{op}: no kernel for head dim {config.HeadDim} (have {string.Join(", ", HeadDims)})");
        if (workspace.Length * sizeof(float) < WorkspaceBytes(config, sequences.TotalTokens))
            throw new ArgumentException($"{op}: the workspace holds {workspace.Length} floats, D needs {config.NHeads} × {sequences.TotalTokens}");
        foreach (var (name, pointer) in new[] { ("dY", dY), ("dQ", dQ), ("dK", dK), ("dV", dV) })
            if (pointer % 16 != 0) throw new ArgumentException($"{op}: {name} at 0x{pointer:x} is not 16-byte aligned");
        if (sequences.MaxLength == 0) return;

        var args = new KernelArgs();
        args.Add(operands.Q);
        args.Add(operands.K);
        args.Add(operands.V);
        args.Add(operands.Y);
        args.Add(operands.Lse);
        args.Add(dY);
        args.Add(sequences.Table);
        args.Add(sequences.TotalTokens);
        args.Add(config.NHeads);
        args.Add(config.NKvHeads);
        args.Add(config.Window);
        args.Add(config.Scale);
        args.Add(workspace.Pointer);
        args.Add(dQ);
        args.Add(dK);
        args.Add(dV);
        string suffix = $"{AttentionOperands.Suffix(operands.DType)}_hd{config.HeadDim}";
        uint tiles = AttentionKernel.CeilDiv(sequences.MaxLength, TileFor(operands.DType, config.HeadDim));
        int shared = SharedBytes(operands.DType, config.HeadDim);
        device.Launch($"attention_backward_dq_{suffix}", new Dim3(tiles, (uint)config.NHeads, (uint)sequences.Count), ThreadsPerBlock, shared, args);
        device.Launch($"attention_backward_dkdv_{suffix}", new Dim3(tiles, (uint)config.NKvHeads, (uint)sequences.Count), ThreadsPerBlock, shared, args);
    }
}
