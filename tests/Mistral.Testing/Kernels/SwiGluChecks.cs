using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Cases;

namespace Mistral.Testing.Kernels;

/// <summary>SwiGluKernel vs SwiGluRef: element counts 1, 3, 17·..., 4097 (tails past the 4-wide vectors).</summary>
public static class SwiGluChecks
{
    public static readonly (int Tokens, int Hidden)[] Shapes = [(1, 1), (1, 3), (3, 17), (17, 127), (1, 4097), (5, 4096)];

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var (t, f) in Shapes)
            {
                yield return new KernelCheck("swiglu_forward", dtype, Storage.Dims(t, f), s => Forward(s, t, f, dtype));
                yield return new KernelCheck("swiglu_backward", dtype, Storage.Dims(t, f), s => Backward(s, t, f, dtype));
            }
    }

    private static KernelComparison Forward(Devices.DeviceScope s, int tokens, int hidden, DType dtype)
    {
        var random = new CaseRandom(tokens * 17 + hidden);
        var gate = Storage.Rounded(random.Normal(tokens * hidden, 3f), dtype);
        var up = Storage.Rounded(random.Normal(tokens * hidden), dtype);
        var expected = new float[gate.Length];
        SwiGluRef.Forward(gate, up, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        var shape = new Shape(tokens, hidden);
        var y = s.Allocate(shape, dtype);
        SwiGluKernel.Forward(s.Device, s.Upload(gate, shape, dtype), s.Upload(up, shape, dtype), y);
        return new KernelComparison().Add("y", expected, s.Download(y), dtype);
    }

    private static KernelComparison Backward(Devices.DeviceScope s, int tokens, int hidden, DType dtype)
    {
        var random = new CaseRandom(tokens * 19 + hidden);
        var gate = Storage.Rounded(random.Normal(tokens * hidden, 3f), dtype);
        var up = Storage.Rounded(random.Normal(tokens * hidden), dtype);
        var dY = Storage.Rounded(random.Normal(tokens * hidden), dtype);
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
