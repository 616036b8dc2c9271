using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Cases;

namespace Mistral.Testing.Kernels;

/// <summary>RopeKernel vs RopeRef: odd head counts, head dims 2..128, positions far into a long context and out of order, in place.</summary>
public static class RopeChecks
{
    public static readonly (int Tokens, int Heads, int HeadDim)[] Shapes = [(1, 1, 2), (3, 3, 6), (17, 5, 64), (7, 8, 128)];

    private const float Theta = 1_000_000f;

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var (t, h, dh) in Shapes)
            {
                var shape = Storage.Dims(t, h * dh);
                yield return new KernelCheck("rope_forward", dtype, shape, s => Run(s, t, h, dh, dtype, forward: true, inPlace: false));
                yield return new KernelCheck("rope_forward_inplace", dtype, shape, s => Run(s, t, h, dh, dtype, forward: true, inPlace: true));
                yield return new KernelCheck("rope_backward", dtype, shape, s => Run(s, t, h, dh, dtype, forward: false, inPlace: false));
            }
    }

    private static KernelComparison Run(Devices.DeviceScope s, int tokens, int heads, int headDim, DType dtype, bool forward, bool inPlace)
    {
        var random = new CaseRandom(tokens * 31 + heads * 7 + headDim);
        int width = heads * headDim;
        var x = Storage.Rounded(random.Normal(tokens * width), dtype);
        // Positions as a rolling cache hands them out: large, not consecutive, not sorted.
        var positions = random.Ints(tokens, 32_768);
        var expected = new float[x.Length];
        if (forward) RopeRef.Forward(x, positions, headDim, Theta, expected);
        else RopeRef.Backward(x, positions, headDim, Theta, expected);
        ElementwiseRef.RoundTo(dtype, expected);

        var shape = new Shape(tokens, width);
        var dx = s.Upload(x, shape, dtype);
        var dpos = s.Upload(positions, new Shape(tokens));
        using var invFreq = RopeKernel.InverseFrequencies(s.Device, headDim, Theta);
        var dinv = new Mistral.Kernels.Device.DeviceTensor(invFreq.Pointer, new Shape(headDim / 2), DType.F32);
        var dy = inPlace ? dx : s.Allocate(shape, dtype);
        if (forward) RopeKernel.Forward(s.Device, dx, dpos, dinv, headDim, dy);
        else RopeKernel.Backward(s.Device, dx, dpos, dinv, headDim, dy);
        // Angles reach 32768 rad: cosf/sinf within 2 ulp of that angle's true value still agree to ~1e-7 absolute.
        return new KernelComparison().Add(forward ? "y" : "dX", expected, s.Download(dy), dtype);
    }
}
