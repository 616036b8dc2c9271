using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

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

        Assert.Equal(2 * 9 + 3, weights.All.Count());
        foreach (var (name, shape) in MistralTensorNames.Expected((MistralConfig)native.Config))
        {
            var tensor = weights[name];
            Assert.Equal(shape, tensor.Shape);
            Assert.Equal(DType.F32, tensor.DType);
            var actual = new float[tensor.ElementCount];
            ops.Download(tensor, actual);
            Assert.Equal(native.Read(name).ToFloat32(), actual);
        }

        // First embedding values, read from the file with Python's struct module.
        var table = weights[MistralTensorNames.TokEmbeddings];
        var embeddings = new float[table.ElementCount];
        ops.Download(table, embeddings);
        Assert.Equal([-0.11181640625f, -0.49609375f, 0.1630859375f, -0.8828125f], embeddings[..4]);
    }
}
