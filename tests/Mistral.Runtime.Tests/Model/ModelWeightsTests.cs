using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Model;

public sealed class ModelWeightsTests
{
    [Fact]
    public void Hf_weights_uploaded_to_the_cpu_equal_the_native_weights_upcast()
    {
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        using var hf = ModelDirectory.Open(Fixtures.TinyHf);
        using var ops = new CpuOps();
        using var weights = ModelWeights.Load(hf, ops, DType.F32);

        Assert.Equal(2, weights.Layers.Count);
        Assert.Equal(2 * 9 + 3, weights.All.Count());
        var byName = new Dictionary<string, Tensor>
        {
            [NativeTensorNames.TokEmbeddings] = weights.TokEmbeddings,
            [NativeTensorNames.Norm] = weights.Norm,
            [NativeTensorNames.Output] = weights.Output,
        };
        for (int i = 0; i < 2; i++)
        {
            var l = weights.Layers[i];
            byName[NativeTensorNames.Wq(i)] = l.Wq; byName[NativeTensorNames.Wk(i)] = l.Wk; byName[NativeTensorNames.Wv(i)] = l.Wv;
            byName[NativeTensorNames.Wo(i)] = l.Wo; byName[NativeTensorNames.W1(i)] = l.W1; byName[NativeTensorNames.W2(i)] = l.W2;
            byName[NativeTensorNames.W3(i)] = l.W3; byName[NativeTensorNames.AttentionNorm(i)] = l.AttentionNorm; byName[NativeTensorNames.FfnNorm(i)] = l.FfnNorm;
        }
        foreach (var (name, shape) in NativeTensorNames.Expected(native.Config))
        {
            var tensor = byName[name];
            Assert.Equal(shape, tensor.Shape);
            Assert.Equal(DType.F32, tensor.DType);
            var actual = new float[tensor.ElementCount];
            ops.Download(tensor, actual);
            Assert.Equal(native.Read(name).ToFloat32(), actual);
        }

        // First embedding values, read from the file with Python's struct module.
        var embeddings = new float[weights.TokEmbeddings.ElementCount];
        ops.Download(weights.TokEmbeddings, embeddings);
        Assert.Equal([-0.11181640625f, -0.49609375f, 0.1630859375f, -0.8828125f], embeddings[..4]);
    }
}
