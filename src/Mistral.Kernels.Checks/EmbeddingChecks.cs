using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Checks;

/// <summary>EmbeddingKernel vs EmbeddingRef over <see cref="EmbeddingCases"/> (repeated tokens accumulate in token order, without atomics).</summary>
public static class EmbeddingChecks
{
    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var c in EmbeddingCases.All)
            {
                yield return new KernelCheck("embedding_forward", dtype, c.Name, s => Forward(s, c, dtype));
                yield return new KernelCheck("embedding_backward", dtype, c.Name, s => Backward(s, c, dtype));
            }
    }

    private static KernelComparison Forward(DeviceScope s, EmbeddingCase c, DType dtype)
    {
        var (tokens, vocab, dim) = (c.Tokens, c.Vocab, c.Dim);
        var data = c.Build();
        var table = Storage.Rounded(data.Table, dtype);
        var ids = data.Tokens;
        var expected = new float[tokens * dim];
        EmbeddingRef.Forward(ids, table, dim, expected);
        var y = s.Allocate(new Shape(tokens, dim), dtype);
        EmbeddingKernel.Forward(s.Device, s.Upload(ids, new Shape(tokens)), s.Upload(table, new Shape(vocab, dim), dtype), y);
        return new KernelComparison().Add("y", expected, s.Download(y), 0, 0); // a gather is exact
    }

    private static KernelComparison Backward(DeviceScope s, EmbeddingCase c, DType dtype)
    {
        var (tokens, vocab, dim) = (c.Tokens, c.Vocab, c.Dim);
        var data = c.Build();
        var dY = Storage.Rounded(data.DY, dtype);
        var ids = data.Tokens;
        var dTableStart = CaseRandom.For(c.Name, salt: 1).Normal(vocab * dim, 0.1f); // the kernel adds into it
        var expected = (float[])dTableStart.Clone();
        EmbeddingRef.Backward(ids, dY, dim, expected);
        var dTable = s.Upload(dTableStart, new Shape(vocab, dim), DType.F32);
        EmbeddingKernel.Backward(s.Device, s.Upload(ids, new Shape(tokens)), s.Upload(dY, new Shape(tokens, dim), dtype), dTable);
        // Each element has one writer adding the tokens' rows in token order, as the reference does: the same bits.
        return new KernelComparison().Add("dTable", expected, s.Download(dTable), 0, 0);
    }
}
