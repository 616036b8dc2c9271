using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>CrossEntropyKernel vs CrossEntropyRef over <see cref="CrossEntropyCases"/> (vocab 2 … 32000, logits up to ±600).</summary>
public static class CrossEntropyChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in CrossEntropyCases.All)
            {
                var shape = $"{Storage.Dims(c.Tokens, c.Vocab)} {c.Name}";
                yield return new KernelCheck("cross_entropy_forward", dtype, shape, s => Forward(s, c, dtype));
                yield return new KernelCheck("cross_entropy_backward", dtype, shape, s => Backward(s, c, dtype, inPlace: false));
                yield return new KernelCheck("cross_entropy_backward_inplace", dtype, shape, s => Backward(s, c, dtype, inPlace: true));
            }
    }

    private static KernelComparison Forward(DeviceScope s, CrossEntropyCase c, DType dtype)
    {
        var data = c.Build();
        var logits = Storage.Rounded(data.Logits, dtype);
        var expected = new float[c.Tokens];
        CrossEntropyRef.Forward(logits, data.Targets, data.Weights, c.Vocab, expected);
        var losses = s.Allocate(new Shape(c.Tokens), DType.F32);
        CrossEntropyKernel.Forward(s.Device, s.Upload(logits, new Shape(c.Tokens, c.Vocab), dtype), s.Upload(data.Targets, new Shape(c.Tokens)), losses);
        // The loss is fp32 whatever the logits' storage: both sides read the same rounded logits.
        return new KernelComparison().Add("losses", expected, s.Download(losses), DType.F32);
    }

    private static KernelComparison Backward(DeviceScope s, CrossEntropyCase c, DType dtype, bool inPlace)
    {
        var data = c.Build();
        var logits = Storage.Rounded(data.Logits, dtype);
        var expected = new float[logits.Length];
        CrossEntropyRef.Backward(logits, data.Targets, data.Weights, c.Vocab, c.Scale, expected);
        ElementwiseRef.RoundTo(dtype, expected);
        var shape = new Shape(c.Tokens, c.Vocab);
        var dLogitsIn = s.Upload(logits, shape, dtype);
        var dLogits = inPlace ? dLogitsIn : s.Allocate(shape, dtype);
        CrossEntropyKernel.Backward(s.Device, dLogitsIn, s.Upload(data.Targets, new Shape(c.Tokens)), s.Upload(data.Weights, new Shape(c.Tokens), DType.F32),
            c.Scale, dLogits);
        return new KernelComparison().Add("dLogits", expected, s.Download(dLogits), dtype);
    }
}
