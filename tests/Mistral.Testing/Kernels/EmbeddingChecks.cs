using Mistral.Kernels.Ops.Cuda;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Testing.Cases;

namespace Mistral.Testing.Kernels;

/// <summary>EmbeddingKernel vs EmbeddingRef: repeated tokens (the backward's atomics meet), dims off the vector width.</summary>
public static class EmbeddingChecks
{
    public static readonly (int Tokens, int Vocab, int Dim)[] Shapes = [(1, 5, 1), (3, 11, 17), (17, 6, 127), (5, 7, 4097), (127, 300, 64)];

    public static IEnumerable<KernelCheck> All()
    {
        foreach (var dtype in Storage.DTypes)
            foreach (var (t, v, d) in Shapes)
            {
                var shape = $"{Storage.Dims(t)} x {Storage.Dims(v, d)}";
                yield return new KernelCheck("embedding_forward", dtype, shape, s => Forward(s, t, v, d, dtype));
                yield return new KernelCheck("embedding_backward", dtype, shape, s => Backward(s, t, v, d, dtype));
            }
    }

    private static KernelComparison Forward(Devices.DeviceScope s, int tokens, int vocab, int dim, DType dtype)
    {
        var random = new CaseRandom(tokens * 13 + vocab * 3 + dim);
        var table = Storage.Rounded(random.Normal(vocab * dim), dtype);
        var ids = random.Ints(tokens, vocab);
        var expected = new float[tokens * dim];
        EmbeddingRef.Forward(ids, table, dim, expected);
        var y = s.Allocate(new Shape(tokens, dim), dtype);
        EmbeddingKernel.Forward(s.Device, s.Upload(ids, new Shape(tokens)), s.Upload(table, new Shape(vocab, dim), dtype), y);
        return new KernelComparison().Add("y", expected, s.Download(y), 0, 0); // a gather is exact
    }

    private static KernelComparison Backward(Devices.DeviceScope s, int tokens, int vocab, int dim, DType dtype)
    {
        var random = new CaseRandom(tokens * 11 + vocab * 5 + dim);
        var dY = Storage.Rounded(random.Normal(tokens * dim), dtype);
        var ids = random.Ints(tokens, vocab); // vocab < tokens in some cases: repeats guaranteed
        var dTableStart = random.Normal(vocab * dim, 0.1f);
        var expected = (float[])dTableStart.Clone();
        EmbeddingRef.Backward(ids, dY, dim, expected);
        var dTable = s.Upload(dTableStart, new Shape(vocab, dim), DType.F32);
        EmbeddingKernel.Backward(s.Device, s.Upload(ids, new Shape(tokens)), s.Upload(dY, new Shape(tokens, dim), dtype), dTable);
        // fp32 accumulation in atomic order: reassociation only.
        return new KernelComparison().Add("dTable", expected, s.Download(dTable), DType.F32);
    }
}
