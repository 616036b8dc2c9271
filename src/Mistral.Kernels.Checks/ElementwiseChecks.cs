using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>ElementwiseKernel vs ElementwiseRef / FloatBits over <see cref="ElementwiseCases.Lengths"/> (around the 4-wide vectors and 256-thread blocks).</summary>
public static class ElementwiseChecks
{
    private static IReadOnlyList<int> Counts => ElementwiseCases.Lengths;

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var n in Counts)
            {
                var shape = Storage.Dims(n);
                yield return new KernelCheck("elementwise_add", dtype, shape, s => Add(s, n, dtype, inPlace: false));
                yield return new KernelCheck("elementwise_add_inplace", dtype, shape, s => Add(s, n, dtype, inPlace: true));
                yield return new KernelCheck("elementwise_add_unaligned", dtype, shape, s => Add(s, n, dtype, inPlace: false, unaligned: true));
                yield return new KernelCheck("elementwise_scale", dtype, shape, s => Scale(s, n, dtype));
                yield return new KernelCheck("elementwise_fill", dtype, shape, s => Fill(s, n, dtype));
            }
        foreach (var n in Counts)
        {
            yield return new KernelCheck("elementwise_cast_to_bf16", DType.F32, Storage.Dims(n), s => Cast(s, n, DType.F32, DType.BF16));
            yield return new KernelCheck("elementwise_cast_to_f32", DType.BF16, Storage.Dims(n), s => Cast(s, n, DType.BF16, DType.F32));
        }
    }

    /// <param name="unaligned">b one element past a 16-byte boundary (a row view of an odd-width tensor): the kernel must
    /// take its element-wise path, never a misaligned vector access.</param>
    private static KernelComparison Add(DeviceScope s, int n, DType dtype, bool inPlace, bool unaligned = false)
    {
        var (a0, b0) = ElementwiseCases.Build(n);
        var a = Storage.Rounded(a0, dtype);
        var b = Storage.Rounded(b0, dtype);
        var expected = new float[n];
        ElementwiseRef.Add(a, b, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        var shape = new Shape(n);
        var da = s.Upload(a, shape, dtype);
        var y = inPlace ? da : s.Allocate(shape, dtype);
        var db = unaligned ? Shifted(s.Upload([0f, .. b], new Shape(n + 1), dtype), shape) : s.Upload(b, shape, dtype);
        ElementwiseKernel.Add(s.Device, da, db, y);
        return new KernelComparison().Add("y", expected, s.Download(y), 0, 0); // one fp32 add, one rounding: exact
    }

    private static KernelComparison Scale(DeviceScope s, int n, DType dtype)
    {
        var x = Storage.Rounded(ElementwiseCases.Build(n).A, dtype);
        var expected = (float[])x.Clone();
        ElementwiseRef.Scale(expected, 0.37f);
        ElementwiseRef.RoundTo(dtype, expected);
        var dx = s.Upload(x, new Shape(n), dtype);
        ElementwiseKernel.Scale(s.Device, dx, 0.37f);
        return new KernelComparison().Add("x", expected, s.Download(dx), 0, 0);
    }

    private static KernelComparison Fill(DeviceScope s, int n, DType dtype)
    {
        var expected = new float[n];
        ElementwiseRef.Fill(expected, -1.2345678f);
        ElementwiseRef.RoundTo(dtype, expected);
        var dx = s.Allocate(new Shape(n), dtype);
        ElementwiseKernel.Fill(s.Device, dx, -1.2345678f);
        return new KernelComparison().Add("x", expected, s.Download(dx), 0, 0);
    }

    private static KernelComparison Cast(DeviceScope s, int n, DType from, DType to)
    {
        var x = Storage.Rounded(ElementwiseCases.Build(n, salt: 1).A.Select(v => 100f * v).ToArray(), from);
        // Exact ties between two bf16 values must round to even: plant some.
        for (int i = 0; i < n; i += 5) x[i] = BitConverter.Int32BitsToSingle((int)(BitConverter.SingleToUInt32Bits(Storage.Rounded([x[i]], DType.BF16)[0]) | 0x8000));
        x = Storage.Rounded(x, from);
        var expected = Storage.Rounded(x, to);
        var dst = s.Allocate(new Shape(n), to);
        ElementwiseKernel.Cast(s.Device, s.Upload(x, new Shape(n), from), dst);
        return new KernelComparison().Add("dst", expected, s.Download(dst), 0, 0); // bit-exact: FloatBits is the spec
    }

    /// <summary>The tensor's elements from the second on, as <paramref name="shape"/>.</summary>
    private static Mistral.Kernels.Device.DeviceTensor Shifted(Mistral.Kernels.Device.DeviceTensor t, Shape shape) =>
        new(t.Pointer + (ulong)t.DType.SizeOf(), shape, t.DType);
}
