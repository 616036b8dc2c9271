using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Bench;

/// <summary>
/// Random weights with a model's shapes, for `bench --shape 7b`: no checkpoint needed. On a device (CUDA, emulated) they are
/// drawn by a kernel, directly in device memory (14.5 GB of bf16 for 7B); elsewhere uploaded from a seeded host draw.
/// Linear weights are uniform in ±1/√in (keeps activations of order 1 through the layers), norm weights 1, biases 0,
/// embeddings ±1.
/// </summary>
public static class SyntheticWeights
{
    public static ModelWeights Create(IOps ops, IModelConfig config, DType dtype, ulong seed = 1234)
    {
        ulong index = 0;
        string embeddings = ModelFamilies.Of(config).Schema(config).First;
        return ModelWeights.Create(config, (name, shape) =>
        {
            index++;
            if (name.EndsWith(".bias", StringComparison.Ordinal))
                return ops.Allocate(shape, dtype); // zero-filled
            bool norm = shape.Rank == 1;
            float bound = norm || name == embeddings ? 1f : 1f / MathF.Sqrt(shape[-1]);
            if (norm)
            {
                var ones = ops.Allocate(shape, dtype);
                ops.Fill(ones, 1f);
                return ones;
            }
            if (ops.OnDevice is { } device)
            {
                var tensor = ops.Allocate(shape, dtype);
                device.FillUniform(tensor, seed * 1_000_003 + index, -bound, bound);
                return tensor;
            }
            return ops.Upload(new CaseRandom((int)(seed + index)).Uniform(checked((int)shape.ElementCount), -bound, bound), shape, dtype);
        });
    }
}
