using Mistral.Kernels.Device;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>Launches kernels/cu/swiglu.cu: 4 elements per thread. All tensors [T, F] (the IOps contract, checked by the ops), one dtype (F32 or BF16).</summary>
public static class SwiGluKernel
{
    /// <summary>y = silu(gate) ⊙ up.</summary>
    public static void Forward(IDevice device, DeviceTensor gate, DeviceTensor up, DeviceTensor y)
    {
        const string op = "swiglu forward";
        Launch.SameDType(op, gate, up, "gate", "up");
        Launch.SameDType(op, gate, y, "gate", "y");
        var args = new KernelArgs();
        args.Add(gate.Pointer);
        args.Add(up.Pointer);
        args.Add(gate.ElementCount);
        args.Add(y.Pointer);
        Launch.Vector16(device, $"swiglu_forward_{Launch.Suffix(op, gate.DType)}", gate.ElementCount, gate.DType, args);
    }

    /// <summary>dGate, dUp overwritten (may alias gate, up).</summary>
    public static void Backward(IDevice device, DeviceTensor gate, DeviceTensor up, DeviceTensor dY, DeviceTensor dGate, DeviceTensor dUp)
    {
        const string op = "swiglu backward";
        foreach (var (other, name) in new[] { (up, "up"), (dY, "dY"), (dGate, "dGate"), (dUp, "dUp") })
            Launch.SameDType(op, gate, other, "gate", name);
        var args = new KernelArgs();
        args.Add(gate.Pointer);
        args.Add(up.Pointer);
        args.Add(dY.Pointer);
        args.Add(gate.ElementCount);
        args.Add(dGate.Pointer);
        args.Add(dUp.Pointer);
        Launch.Vector16(device, $"swiglu_backward_{Launch.Suffix(op, gate.DType)}", gate.ElementCount, gate.DType, args);
    }
}
