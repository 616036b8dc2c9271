using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>RopeKernel vs RopeRef over <see cref="RopeCases"/> (positions far into a long context, not sorted), also in place.</summary>
public static class RopeChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in RopeCases.All)
            {
                yield return new KernelCheck("rope_forward", dtype, c.Name, s => Run(s, c, dtype, forward: true, inPlace: false));
                yield return new KernelCheck("rope_forward_inplace", dtype, c.Name, s => Run(s, c, dtype, forward: true, inPlace: true));
                yield return new KernelCheck("rope_backward", dtype, c.Name, s => Run(s, c, dtype, forward: false, inPlace: false));
            }
    }

    private static KernelComparison Run(DeviceScope s, RopeCase c, DType dtype, bool forward, bool inPlace)
    {
        var (tokens, headDim, theta) = (c.Tokens, c.HeadDim, c.Theta);
        int width = c.Heads * headDim;
        var data = c.Build();
        var x = Storage.Rounded(forward ? data.X : data.DY, dtype);
        var positions = data.Positions;
        var expected = new float[x.Length];
        if (forward) RopeRef.Forward(x, positions, headDim, theta, expected);
        else RopeRef.Backward(x, positions, headDim, theta, expected);
        ElementwiseRef.RoundTo(dtype, expected);

        var shape = new Shape(tokens, width);
        var dx = s.Upload(x, shape, dtype);
        var dpos = s.Upload(positions, new Shape(tokens));
        using var invFreq = RopeKernel.InverseFrequencies(s.Device, headDim, theta);
        var dinv = new Mistral.Kernels.Device.DeviceTensor(invFreq.Pointer, new Shape(headDim / 2), DType.F32);
        var dy = inPlace ? dx : s.Allocate(shape, dtype);
        if (forward) RopeKernel.Forward(s.Device, dx, dpos, dinv, headDim, dy);
        else RopeKernel.Backward(s.Device, dx, dpos, dinv, headDim, dy);
        // The kernel's cos/sin table holds the reference's fp32 numbers (both round a double cos/sin of the same fp32
        // angle), and the emulator does the same fp32 products without contraction: bit-identical there. A GPU (and the
        // emulator's FMA build) fuses x0·c − x1·s into an FMA (one rounding fewer): within the fp32 tolerance.
        return s.Device is Mistral.Kernels.Device.EmulatedDevice { ContractsFma: false } && dtype == DType.F32
            ? new KernelComparison().Add(forward ? "y" : "dX", expected, s.Download(dy), 0, 0)
            : new KernelComparison().Add(forward ? "y" : "dX", expected, s.Download(dy), dtype);
    }
}
