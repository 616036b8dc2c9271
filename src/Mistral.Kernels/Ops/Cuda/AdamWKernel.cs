using System.Runtime.InteropServices;
using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launches kernels/cu/adamw.cu: the AdamW step and the squared norm of gradients, of one tensor or of every trained
/// tensor in one launch (chunks of <see cref="ChunkElements"/>, one block each). Legend: N = elements.
/// </summary>
public static class AdamWKernel
{
    private const int Threads = 256;

    /// <summary>Blocks of the sum-of-squares partials: enough to fill a GPU, and a function of N only (deterministic).</summary>
    public const int MaxPartials = 1024;

    /// <summary>
    /// One AdamW step on fp32 param, m, v (in place) from an fp32 grad of one shape (the IOps contract, checked by the
    /// ops), exactly as <see cref="Reference.AdamWRef.Step"/>:
    /// the scalar factors are formed here in fp64 by the same expressions, the kernel does the fp32 element math.
    /// </summary>
    public static void Step(IDevice device, DeviceTensor param, DeviceTensor grad, DeviceTensor m, DeviceTensor v, AdamWStepArgs step)
    {
        var f = Reference.AdamWRef.Factors(step);
        var args = new KernelArgs();
        args.Add(param.Pointer);
        args.Add(grad.Pointer);
        args.Add(m.Pointer);
        args.Add(v.Pointer);
        args.Add(param.ElementCount);
        args.Add(step.GradScale);
        args.Add(f.Decay);
        AddSharedFactors(ref args, f, step);
        if (param.ElementCount > 0) device.Launch("adamw_step_f32", Launch.CeilDiv(param.ElementCount, Threads), Threads, 0, args);
    }

    /// <summary>Partials of Σ x² the kernel writes for N elements: one per block.</summary>
    public static int PartialCount(long n) => Math.Clamp(Launch.CeilDiv(n, 4L * Threads), 1, MaxPartials);

    /// <summary>
    /// Σ x² of an F32 or BF16 tensor: fp32 partials per block (<paramref name="partials"/> holds at least
    /// <see cref="PartialCount"/> floats), added on the host in fp64 in block order. Synchronises (the result is a host value).
    /// </summary>
    public static double SumOfSquares(IDevice device, DeviceTensor x, DeviceSpan<float> partials)
    {
        const string op = "sum of squares";
        if (x.ElementCount == 0) return 0;
        int blocks = PartialCount(x.ElementCount);
        if (partials.Length < blocks) throw new ArgumentException($"{op}: {partials.Length} partials, {blocks} needed");
        var args = new KernelArgs();
        args.Add(x.Pointer);
        args.Add(x.ElementCount);
        args.Add(partials.Pointer);
        device.Launch($"adamw_sum_of_squares_partials_{Launch.Suffix(op, x.DType)}", blocks, Threads, 0, args);
        var host = new float[blocks];
        device.CopyToHost(partials.Slice(0, blocks), host);
        double sum = 0;
        foreach (var p in host) sum += p;
        return sum;
    }

    /// <summary>Elements per chunk of the multi-tensor launches: 64 per thread of a 256-thread block.</summary>
    public const int ChunkElements = 64 * Threads;

    /// <summary>AdamWChunk in adamw.cu: one piece of one tensor (a sum-of-squares chunk uses Param only).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public readonly record struct Chunk(ulong Param, ulong Grad, ulong M, ulong V, int Count, float Decay);

    /// <summary>Splits each tensor of <paramref name="lengths"/> (in order) into chunks of at most
    /// <see cref="ChunkElements"/>; <paramref name="make"/> builds the chunk of tensor t starting at element start.</summary>
    public static Chunk[] Chunks(IReadOnlyList<long> lengths, Func<int, long, int, Chunk> make)
    {
        var chunks = new List<Chunk>();
        for (int t = 0; t < lengths.Count; t++)
            for (long start = 0; start < lengths[t]; start += ChunkElements)
                chunks.Add(make(t, start, (int)Math.Min(ChunkElements, lengths[t] - start)));
        return chunks.ToArray();
    }

    /// <summary>Bytes of the chunk table of <paramref name="chunks"/> entries.</summary>
    public static long TableBytes(int chunks) => (long)chunks * Marshal.SizeOf<Chunk>();

    /// <summary>
    /// One AdamW step of every chunk's tensor in one launch: the shared factors formed by <see cref="Reference.AdamWRef.Factors"/>
    /// from <paramref name="step"/>, each chunk's Decay from its own tensor's weight decay (<see cref="DecayFactor"/>).
    /// <paramref name="table"/> (at least <see cref="TableBytes"/>) receives the chunks; the launch reads it in stream order.
    /// </summary>
    public static void Step(IDevice device, ReadOnlySpan<Chunk> chunks, DeviceSpan<byte> table, AdamWStepArgs step)
    {
        if (chunks.Length == 0) return;
        var f = Reference.AdamWRef.Factors(step);
        var args = new KernelArgs();
        args.Add(Upload(device, chunks, table));
        args.Add(step.GradScale);
        AddSharedFactors(ref args, f, step);
        device.Launch("adamw_step_chunks_f32", chunks.Length, Threads, 0, args);
    }

    /// <summary>The decay factor 1 − lr·wd of a tensor with weight decay <paramref name="weightDecay"/>, as AdamWRef forms it.</summary>
    public static float DecayFactor(AdamWStepArgs step, float weightDecay) => Reference.AdamWRef.Factors(step with { WeightDecay = weightDecay }).Decay;

    /// <summary>
    /// Σ x² over every chunk (fp32 data, fp64 accumulation): one launch, one download of the per-chunk fp64 partials
    /// (<paramref name="partials"/> holds one double per chunk), added on the host in chunk order. Synchronises once.
    /// </summary>
    public static double SumOfSquares(IDevice device, ReadOnlySpan<Chunk> chunks, DeviceSpan<byte> table, DeviceSpan<double> partials)
    {
        if (chunks.Length == 0) return 0;
        if (partials.Length < chunks.Length) throw new ArgumentException($"sum of squares: {partials.Length} partials, {chunks.Length} needed");
        var args = new KernelArgs();
        args.Add(Upload(device, chunks, table));
        args.Add(partials.Pointer);
        device.Launch("adamw_sum_of_squares_chunks_f32", chunks.Length, Threads, 0, args);
        var host = new double[chunks.Length];
        device.CopyToHost(partials.Slice(0, chunks.Length), host);
        double sum = 0;
        foreach (var p in host) sum += p;
        return sum;
    }

    /// <summary>β1, β2, 1 − β1, 1 − β2, step size, sqrt(1 − β2^t), eps: the kernels' trailing arguments, in this order.</summary>
    private static void AddSharedFactors(ref KernelArgs args, Reference.AdamWRef.StepFactors f, AdamWStepArgs step)
    {
        args.Add(f.Beta1);
        args.Add(f.Beta2);
        args.Add(f.OneMinusBeta1);
        args.Add(f.OneMinusBeta2);
        args.Add(f.StepSize);
        args.Add(f.BiasCorrection2Sqrt);
        args.Add(step.Eps);
    }

    private static ulong Upload(IDevice device, ReadOnlySpan<Chunk> chunks, DeviceSpan<byte> table)
    {
        if (table.Length < TableBytes(chunks.Length)) throw new ArgumentException($"adamw: a table of {table.Length} bytes, {TableBytes(chunks.Length)} needed");
        device.CopyToDevice(MemoryMarshal.AsBytes(chunks), table.Slice(0, TableBytes(chunks.Length)));
        return table.Pointer;
    }
}
