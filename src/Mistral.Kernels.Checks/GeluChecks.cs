using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>GeluKernel vs GeluRef over <see cref="GeluCases"/>, both forms (counts that miss the vector width).</summary>
public static class GeluChecks
{
    private static readonly GeluApproximation[] Forms = [GeluApproximation.Tanh, GeluApproximation.Erf];

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var form in Forms)
                foreach (var c in GeluCases.All)
                {
                    string name = form.ToString().ToLowerInvariant();
                    yield return new KernelCheck($"gelu_forward_{name}", dtype, c.Name, s => Forward(s, c, form, dtype));
                    yield return new KernelCheck($"gelu_backward_{name}", dtype, c.Name, s => Backward(s, c, form, dtype));
                }
    }

    // fp32: tanhf/erff/expf of glibc (emulator) or CUDA (≤ 2 ulp) against .NET's tanh/exp and an fp64 erf rounded
    // once; in the left tail 1 + tanh and 1 + erf cancel, so an ulp of the ±1 they approach (6e-8) times 0.5·|x| ≤ 6
    // reaches 2e-7 absolute: inside KernelTolerance's 1e-6 absolute part.
    private static KernelComparison Forward(DeviceScope s, GeluCase c, GeluApproximation form, DType dtype)
    {
        var data = c.Build();
        var x = Storage.Rounded(data.X, dtype);
        var expected = new float[c.Count];
        GeluRef.Forward(x, form, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        var shape = new Shape(c.Rows, c.Cols);
        var y = s.Allocate(shape, dtype);
        GeluKernel.Forward(s.Device, s.Upload(x, shape, dtype), form, y);
        return new KernelComparison().Add("y", expected, s.Download(y), dtype);
    }

    private static KernelComparison Backward(DeviceScope s, GeluCase c, GeluApproximation form, DType dtype)
    {
        var data = c.Build();
        var x = Storage.Rounded(data.X, dtype);
        var dY = Storage.Rounded(data.DY, dtype);
        var expected = new float[c.Count];
        GeluRef.Backward(x, dY, form, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        var shape = new Shape(c.Rows, c.Cols);
        var dX = s.Allocate(shape, dtype);
        GeluKernel.Backward(s.Device, s.Upload(x, shape, dtype), s.Upload(dY, shape, dtype), form, dX);
        return new KernelComparison().Add("dX", expected, s.Download(dX), dtype);
    }
}
