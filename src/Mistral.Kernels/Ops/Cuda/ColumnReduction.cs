using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// The launch side of kernels/cu/common/column_reduce.cuh, the deterministic two-stage column sums behind the
/// RMSNorm, LayerNorm and bias parameter gradients: stage 1 over (column groups, row slices) into fp32 partials
/// [slices, sums, columns] in a scratch the caller provides (<see cref="PartialsBytes"/>; rented before the launch, so
/// nothing is allocated while a graph is captured), stage 2 adding them in slice order into the outputs. The slice
/// length depends only on the row count, so the bits never depend on the device or the schedule.
/// </summary>
public static class ColumnReduction
{
    /// <summary>Rows per stage-1 block: 4096 rows of a 4096-wide bf16 norm make 4 × 128 blocks; the partials are
    /// 1/32 of the rows' bytes in fp32 (1/16 of a bf16 operand).</summary>
    public const int SliceRows = 32;
    /// <summary>Threads per stage-1 block (each owns 16 bytes of columns) and per stage-2 block (one column each).</summary>
    public const int Block = 128;
    private const int MaxGridY = 65535;

    /// <summary>Rows per slice: <see cref="SliceRows"/>, longer when the rows would need more than 65535 slices (grid y).</summary>
    public static int SliceRowsFor(int rows) => Math.Max(SliceRows, Launch.CeilDiv(rows, MaxGridY));

    public static int Slices(int rows) => rows == 0 ? 0 : Launch.CeilDiv(rows, SliceRowsFor(rows));

    /// <summary>Scratch bytes for <paramref name="sums"/> column sums of a [rows, columns] operand.</summary>
    public static long PartialsBytes(int rows, int columns, int sums) => (long)Slices(rows) * sums * columns * sizeof(float);

    /// <summary>
    /// Stage 1: <paramref name="args"/> holds the kernel's inputs; rows, columns, the slice length and the partials
    /// are appended. <paramref name="storage"/> is the inputs' dtype (16 bytes of it per thread).
    /// </summary>
    public static void Partials(IDevice device, string op, string kernel, DType storage, int rows, int columns, int sums,
        DeviceSpan<byte> partials, ref KernelArgs args)
    {
        long needed = PartialsBytes(rows, columns, sums);
        if (partials.ByteLength < needed)
            throw new ArgumentException($"{op}: the partials scratch has {partials.ByteLength} bytes; {rows} rows × {columns} columns need {needed}");
        args.Add(rows);
        args.Add(columns);
        args.Add(SliceRowsFor(rows));
        args.Add(partials.Pointer);
        int perThread = 16 / storage.SizeOf();
        var grid = new Dim3(checked((uint)Launch.CeilDiv(columns, (long)perThread * Block)), checked((uint)Slices(rows)));
        device.Launch(kernel, grid, Block, 0, args);
    }

    /// <summary>Stage 2: out[d] += Σ_s partials[s, ·, d] for each output in <paramref name="outputs"/> (0: not wanted).</summary>
    public static void Sum(IDevice device, string kernel, int rows, int columns, DeviceSpan<byte> partials, params ReadOnlySpan<ulong> outputs)
    {
        var args = new KernelArgs();
        args.Add(partials.Pointer);
        args.Add(Slices(rows));
        args.Add(columns);
        foreach (ulong output in outputs) args.Add(output);
        device.Launch(kernel, Launch.CeilDiv(columns, Block), Block, 0, args);
    }
}
