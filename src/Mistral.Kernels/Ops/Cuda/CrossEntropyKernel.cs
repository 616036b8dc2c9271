using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/cross_entropy.cu: one block per row of logits. Legend: R = rows (tokens), V = vocab.</summary>
public static class CrossEntropyKernel
{
    /// <summary>Threads per row: a V = 32000 row is 31 vectors of 4 per thread.</summary>
    public const int ThreadsPerRow = 256;

    /// <summary>losses F32 [R][r] = logsumexp(logits[r]) − logits[r, targets[r]] (unweighted). logits [R, V] F32 or BF16; targets I32 [R].</summary>
    public static void Forward(IDevice device, DeviceTensor logits, DeviceTensor targets, DeviceTensor losses)
    {
        const string op = "cross entropy forward";
        Check(op, logits, targets);
        Launch.DTypeIs(op, losses, DType.F32, "losses");
        Launch.Count(op, losses, logits.Rows, "losses");
        var args = new KernelArgs();
        args.Add(logits.Pointer);
        args.Add(targets.Pointer);
        args.Add(logits.Columns);
        args.Add(losses.Pointer);
        if (logits.Rows > 0) device.Launch($"cross_entropy_forward_{Launch.Suffix(op, logits.DType)}", logits.Rows, ThreadsPerRow, 0, args);
    }

    /// <summary>
    /// dLogits [R, V] (overwritten, the logits' dtype; may be the logits themselves) = (softmax − onehot(target)) ·
    /// weights[r] · scale; weights F32 [R], 0 masks a row out.
    /// </summary>
    public static void Backward(IDevice device, DeviceTensor logits, DeviceTensor targets, DeviceTensor weights, float scale, DeviceTensor dLogits)
    {
        const string op = "cross entropy backward";
        Check(op, logits, targets);
        Launch.DTypeIs(op, weights, DType.F32, "weights");
        Launch.Count(op, weights, logits.Rows, "weights");
        Launch.SameShape(op, logits, dLogits, "logits", "dLogits");
        Launch.SameDType(op, logits, dLogits, "logits", "dLogits");
        var args = new KernelArgs();
        args.Add(logits.Pointer);
        args.Add(targets.Pointer);
        args.Add(weights.Pointer);
        args.Add(logits.Columns);
        args.Add(scale);
        args.Add(dLogits.Pointer);
        if (logits.Rows > 0) device.Launch($"cross_entropy_backward_{Launch.Suffix(op, logits.DType)}", logits.Rows, ThreadsPerRow, 0, args);
    }

    private static void Check(string op, DeviceTensor logits, DeviceTensor targets)
    {
        if (logits.Shape.Rank != 2 || logits.Columns < 1) throw new ArgumentException($"{op}: logits must be [R, V], not {logits.Shape}");
        Launch.DTypeIs(op, targets, DType.I32, "targets");
        Launch.Count(op, targets, logits.Rows, "targets");
    }
}
