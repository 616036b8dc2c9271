using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// Launches kernels/cu/cross_entropy.cu: one block per row of logits. Legend: R = rows (tokens), V = vocab. Shapes and
/// the I32 / F32 operands are the IOps contract's, checked by the ops before launch.
/// </summary>
public static class CrossEntropyKernel
{
    /// <summary>Threads per row: a V = 32000 row is 31 vectors of 4 per thread.</summary>
    public const int ThreadsPerRow = 256;

    /// <summary>losses F32 [R][r] = logsumexp(logits[r]) − logits[r, targets[r]] (unweighted). logits [R, V] F32 or BF16; targets I32 [R].</summary>
    public static void Forward(IDevice device, DeviceTensor logits, DeviceTensor targets, DeviceTensor losses)
    {
        const string op = "cross entropy forward";
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
}
