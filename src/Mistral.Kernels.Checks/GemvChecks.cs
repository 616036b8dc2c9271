using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Device;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>
/// GemvKernel vs GemmRef (the linear-layer case x · Wᵀ) over <see cref="GemvCases"/> (one to three weights a launch),
/// and the fused SwiGLU vs GemmRef on w1 and on w3 followed by SwiGluRef, with the gate and up rounded to storage in between as the unfused
/// GEMMs store them.
/// </summary>
public static class GemvChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
        {
            foreach (var c in GemvCases.All)
                yield return new KernelCheck("gemv_forward", dtype, c.Name, s => Forward(s, c, dtype));
            foreach (var c in GemvCases.SwiGlu)
                yield return new KernelCheck("gemv_swiglu", dtype, c.Name, s => SwiGlu(s, c, dtype));
        }
    }

    /// <summary>As GemmChecks: any summation order of K products of N(0,1) values is within ~2^-24·K of another.</summary>
    private static double AbsoluteTolerance(int k) => k * Math.Pow(2, -20);

    private static KernelComparison Forward(DeviceScope s, GemvCase c, DType dtype)
    {
        var data = c.Build();
        var (x, w, yStart) = (Storage.Rounded(data.A, dtype), Storage.Rounded(data.B, dtype), Storage.Rounded(data.C, dtype));
        // The kernel rounds the product to storage before it adds beta · y (as a GEMM and an add would store them).
        var expected = new float[c.M * c.N];
        GemmRef.Gemm(x, false, w, true, c.M, c.N, c.K, c.Alpha, 0f, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        if (c.Beta != 0f)
            for (int i = 0; i < expected.Length; i++) expected[i] += c.Beta * yStart[i];
        ElementwiseRef.RoundTo(dtype, expected);

        // Each weight its own tensor, each output its own [M, Ni] tensor: column block i of y.
        var parts = c.Weights;
        var ws = new DeviceTensor[parts.Length];
        var ys = new DeviceTensor[parts.Length];
        for (int i = 0, row = 0; i < parts.Length; row += parts[i], i++)
        {
            ws[i] = Place(s, w[(row * c.K)..((row + parts[i]) * c.K)], new Shape(parts[i], c.K), dtype, c.Misaligned);
            ys[i] = s.Upload(Columns(yStart, c.N, row, parts[i]), new Shape(c.M, parts[i]), dtype);
            if (c.Beta == 0f) Poison(s, ys[i]);   // beta = 0: y must not be read
        }
        GemvKernel.Forward(s.Device, Place(s, x, new Shape(c.M, c.K), dtype, c.Misaligned), ws, c.Alpha, c.Beta, ys);
        var (_, rel) = KernelTolerance.For(dtype);
        var comparison = new KernelComparison();
        for (int i = 0, row = 0; i < parts.Length; row += parts[i], i++)
            comparison.Add($"y{i}", Columns(expected, c.N, row, parts[i]), s.Download(ys[i]), AbsoluteTolerance(c.K), rel);
        return comparison;
    }

    /// <summary>Columns [start, start + count) of the row-major matrix m with n columns.</summary>
    private static float[] Columns(float[] m, int n, int start, int count)
    {
        int rows = m.Length / n;
        var result = new float[rows * count];
        for (int r = 0; r < rows; r++) Array.Copy(m, r * n + start, result, r * count, count);
        return result;
    }

    private static KernelComparison SwiGlu(DeviceScope s, GemvCase c, DType dtype)
    {
        int f = c.N;
        var data = c.Build(weightRowsPerOutput: 2);
        var (x, w) = (Storage.Rounded(data.A, dtype), Storage.Rounded(data.B, dtype));
        var gate = new float[c.M * f];
        var up = new float[c.M * f];
        GemmRef.Gemm(x, false, w.AsMemory(0, f * c.K), true, c.M, f, c.K, 1f, 0f, gate);
        GemmRef.Gemm(x, false, w.AsMemory(f * c.K), true, c.M, f, c.K, 1f, 0f, up);
        ElementwiseRef.RoundTo(dtype, gate);
        ElementwiseRef.RoundTo(dtype, up);
        var expected = new float[c.M * f];
        SwiGluRef.Forward(gate, up, expected);
        ElementwiseRef.RoundTo(dtype, expected);

        var y = s.Allocate(new Shape(c.M, f), dtype);
        var xs = Place(s, x, new Shape(c.M, c.K), dtype, c.Misaligned);
        var w1 = Place(s, w[..(f * c.K)], new Shape(f, c.K), dtype, c.Misaligned);
        var w3 = Place(s, w[(f * c.K)..], new Shape(f, c.K), dtype, c.Misaligned);
        GemvKernel.SwiGlu(s.Device, xs, w1, w3, y);
        // silu(g)·u carries the noise of one dot product times the other (~sqrt(K)) and |silu'| ≤ 1.1.
        var (_, rel) = KernelTolerance.For(dtype);
        return new KernelComparison().Add("y", expected, s.Download(y), 4 * Math.Sqrt(c.K) * AbsoluteTolerance(c.K), rel);
    }

    /// <summary>The values on the device, starting one element past the allocation (not 16-byte aligned) when misaligned.</summary>
    private static DeviceTensor Place(DeviceScope s, float[] values, Shape shape, DType dtype, bool misaligned)
    {
        if (!misaligned) return s.Upload(values, shape, dtype);
        var padded = s.Upload([0f, .. values], new Shape(values.Length + 1), dtype);
        return new DeviceTensor(padded.Pointer + (ulong)dtype.SizeOf(), shape, dtype);
    }

    private static void Poison(DeviceScope s, DeviceTensor t) =>
        s.Device.Memset(new DeviceSpan<byte>(t.Pointer, t.ByteCount), 0xFF);   // NaN in both dtypes
}
