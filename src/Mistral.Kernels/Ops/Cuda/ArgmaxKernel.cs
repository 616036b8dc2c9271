using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/argmax.cu: one block per row. Legend: R = rows, V = vocab.</summary>
public static class ArgmaxKernel
{
    /// <summary>ids[r] = argmax of logits row r, lowest index on ties. logits [R, V] F32 or BF16; ids I32 [R] (the IOps contract, checked by the ops).</summary>
    public static void Forward(IDevice device, DeviceTensor logits, DeviceTensor ids)
    {
        var args = new KernelArgs();
        args.Add(logits.Pointer);
        args.Add(logits.Columns);
        args.Add(ids.Pointer);
        if (logits.Rows > 0) device.Launch($"argmax_forward_{Launch.Suffix("argmax", logits.DType)}", logits.Rows, Launch.RowBlock(logits.Columns), 0, args);
    }
}
