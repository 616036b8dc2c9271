using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>SwiGluKernel vs SwiGluRef over <see cref="SwiGluCases"/> (tails past the 4-wide vectors).</summary>
public static class SwiGluChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in SwiGluCases.All)
            {
                yield return new KernelCheck("swiglu_forward", dtype, c.Name, s => Forward(s, c, dtype));
                yield return new KernelCheck("swiglu_backward", dtype, c.Name, s => Backward(s, c, dtype));
            }
    }

    private static KernelComparison Forward(DeviceScope s, SwiGluCase c, DType dtype)
    {
        var (tokens, hidden) = (c.Rows, c.Hidden);
        var data = c.Build();
        var gate = Storage.Rounded(data.Gate, dtype);
        var up = Storage.Rounded(data.Up, dtype);
        var expected = new float[gate.Length];
        SwiGluRef.Forward(gate, up, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        var shape = new Shape(tokens, hidden);
        var y = s.Allocate(shape, dtype);
        SwiGluKernel.Forward(s.Device, s.Upload(gate, shape, dtype), s.Upload(up, shape, dtype), y);
        return new KernelComparison().Add("y", expected, s.Download(y), dtype);
    }

    private static KernelComparison Backward(DeviceScope s, SwiGluCase c, DType dtype)
    {
        var (tokens, hidden) = (c.Rows, c.Hidden);
        var data = c.Build();
        var gate = Storage.Rounded(data.Gate, dtype);
        var up = Storage.Rounded(data.Up, dtype);
        var dY = Storage.Rounded(data.DY, dtype);
        var dGate = new float[gate.Length];
        var dUp = new float[gate.Length];
        SwiGluRef.Backward(gate, up, dY, dGate, dUp);
        ElementwiseRef.RoundTo(dtype, dGate);
        ElementwiseRef.RoundTo(dtype, dUp);
        var shape = new Shape(tokens, hidden);
        var ddGate = s.Allocate(shape, dtype);
        var ddUp = s.Allocate(shape, dtype);
        SwiGluKernel.Backward(s.Device, s.Upload(gate, shape, dtype), s.Upload(up, shape, dtype), s.Upload(dY, shape, dtype), ddGate, ddUp);
        return new KernelComparison()
            .Add("dGate", dGate, s.Download(ddGate), dtype)
            .Add("dUp", dUp, s.Download(ddUp), dtype);
    }
}
