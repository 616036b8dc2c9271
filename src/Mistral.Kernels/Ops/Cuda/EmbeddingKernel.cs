using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/embedding.cu. Legend: T = tokens, V = vocab, D = dim. Shapes: the IOps contract, checked by the ops.</summary>
public static class EmbeddingKernel
{
    /// <summary>y[t] = table[tokens[t]]. tokens I32 [T]; table [V, D] and y [T, D] in F32 or BF16 (the same).</summary>
    public static void Forward(IDevice device, DeviceTensor tokens, DeviceTensor table, DeviceTensor y)
    {
        const string op = "embedding forward";
        Launch.SameDType(op, table, y, "table", "y");
        var args = new KernelArgs();
        args.Add(tokens.Pointer);
        args.Add(table.Pointer);
        args.Add(table.Rows);
        args.Add(table.Columns);
        args.Add(y.Pointer);
        if (tokens.ElementCount > 0)
            device.Launch($"embedding_forward_{Launch.Suffix(op, table.DType)}", (int)tokens.ElementCount, Launch.RowBlock(table.Columns), 0, args);
    }

    /// <summary>Slices of the vocabulary the backward grid spreads over (grid y): each owns its rows of dTable.</summary>
    public const int VocabSlices = 64;

    /// <summary>
    /// dTable[tokens[t]] += dY[t], in token order and without atomics, so the result is the same bits on every run and
    /// equals EmbeddingRef's. dY [T, D] F32 or BF16; dTable F32 [V, D] (gradients accumulate in fp32).
    /// </summary>
    public static void Backward(IDevice device, DeviceTensor tokens, DeviceTensor dY, DeviceTensor dTable)
    {
        const string op = "embedding backward";
        Launch.DTypeIs(op, dTable, DType.F32, "dTable");   // rows accumulate in fp32
        var args = new KernelArgs();
        args.Add(tokens.Pointer);
        args.Add(dY.Pointer);
        args.Add((int)tokens.ElementCount);
        args.Add(dTable.Rows);
        args.Add(dTable.Columns);
        args.Add(dTable.Pointer);
        if (tokens.ElementCount == 0 || dTable.ElementCount == 0) return;
        var grid = new Dim3((uint)Launch.CeilDiv(dTable.Columns, Launch.ElementwiseBlock), (uint)Math.Min(dTable.Rows, VocabSlices), 1);
        device.Launch($"embedding_backward_{Launch.Suffix(op, dY.DType)}", grid, Launch.ElementwiseBlock, 0, args);
    }
}
