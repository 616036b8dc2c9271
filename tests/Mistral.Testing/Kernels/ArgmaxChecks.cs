using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Cases;

namespace Mistral.Testing.Kernels;

/// <summary>ArgmaxKernel vs ArgmaxRef, with the maximum planted twice per row so the lowest-index rule is exercised.</summary>
public static class ArgmaxChecks
{
    public static readonly (int Rows, int Vocab)[] Shapes = [(1, 1), (3, 17), (17, 127), (2, 4097), (3, 32768)];

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var (r, v) in Shapes)
                yield return new KernelCheck("argmax_forward", dtype, Storage.Dims(r, v), s => Run(s, r, v, dtype));
    }

    private static KernelComparison Run(Devices.DeviceScope s, int rows, int vocab, DType dtype)
    {
        var random = new CaseRandom(rows * 3 + vocab);
        var logits = Storage.Rounded(random.Normal(rows * vocab, 4f), dtype);
        var spots = random.Ints(2 * rows, vocab);
        for (int r = 0; r < rows; r++)
        {
            logits[r * vocab + spots[2 * r]] = 50f;     // a tie at two random places: the lower index must win
            logits[r * vocab + spots[2 * r + 1]] = 50f;
        }
        var expected = new int[rows];
        ArgmaxRef.Argmax(logits, vocab, expected);
        var ids = s.Allocate(new Shape(rows), DType.I32);
        ArgmaxKernel.Forward(s.Device, s.Upload(logits, new Shape(rows, vocab), dtype), ids);
        return new KernelComparison().AddExact("ids", expected, s.DownloadInts(ids));
    }
}
