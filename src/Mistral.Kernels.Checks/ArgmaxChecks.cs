using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>ArgmaxKernel vs ArgmaxRef over <see cref="ArgmaxCases"/>: each row's maximum planted twice, so the lowest-index rule decides.</summary>
public static class ArgmaxChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in ArgmaxCases.All)
                yield return new KernelCheck("argmax_forward", dtype, c.Name, s => Run(s, c, dtype));
    }

    private static KernelComparison Run(DeviceScope s, ArgmaxCase c, DType dtype)
    {
        var (rows, vocab) = (c.Rows, c.Vocab);
        // bf16 rounding may create more ties; the reference sees the same rounded values.
        var logits = Storage.Rounded(c.Build(), dtype);
        var expected = new int[rows];
        ArgmaxRef.Argmax(logits, vocab, expected);
        var ids = s.Allocate(new Shape(rows), DType.I32);
        ArgmaxKernel.Forward(s.Device, s.Upload(logits, new Shape(rows, vocab), dtype), ids);
        return new KernelComparison().AddExact("ids", expected, s.DownloadInts(ids));
    }
}
