using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;
using Mistral.Runtime.Modules;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training.Config;

namespace Mistral.Runtime.Training.Lora;

/// <summary>
/// Every LoRA adapter of a model, keyed by module name ("layers.{i}.attention.wq"). A and B are fp32 on the ops' device
/// with fp32 gradient buffers. Owns its tensors.
/// </summary>
public sealed class LoraAdapters : IDisposable
{
    private readonly Dictionary<string, LoraAdapter> _byModule;

    /// <param name="adapters">in model order; the collection owns their tensors from here on.</param>
    public LoraAdapters(IReadOnlyList<LoraAdapter> adapters)
    {
        All = adapters;
        _byModule = adapters.ToDictionary(a => a.Module, StringComparer.Ordinal);
    }

    /// <summary>In model order: block by block, targets in the config's order.</summary>
    public IReadOnlyList<LoraAdapter> All { get; }

    public LoraAdapter? Find(string module) => _byModule.GetValueOrDefault(module);

    /// <summary>Every A then B, in model order.</summary>
    public IEnumerable<TrainableParameter> Parameters => All.SelectMany(a => new[] { a.A, a.B });

    /// <summary>
    /// An adapter on each of the model's <see cref="Linear"/> modules whose target name (e.g. "wq") the config lists, named
    /// and shaped as that module. mistral-src LoRALinear's initialisation: A Kaiming-uniform with a = √5
    /// (U(−1/√in, 1/√in)), B zero, so training starts exactly at the base model. With <see cref="LoraConfig.InitFile"/>,
    /// A and B come from that file instead.
    /// </summary>
    public static LoraAdapters Create(IOps ops, ICausalLm model, LoraConfig lora, Xoshiro256StarStar rng)
    {
        IReadOnlyDictionary<string, HostTensor>? init = lora.InitFile is null ? null : SafeTensorsFile.ReadAll(lora.InitFile);
        var adapters = new List<LoraAdapter>();
        var blocks = model.Linears.Where(l => l.Block is not null && l.Target is not null).GroupBy(l => l.Block!.Value).OrderBy(g => g.Key);
        foreach (var block in blocks)
            foreach (var target in lora.Targets)
            {
                var linear = block.FirstOrDefault(l => l.Target == target) ?? throw new ArgumentException(
                    $"lora.targets: '{target}' is no projection of a {model.Config.Family} block (it has {string.Join(", ", block.Select(l => l.Target))})");
                var module = linear.Name;
                var (outDim, inDim) = (linear.Out, linear.In);
                float[] a, b;
                if (init is not null)
                {
                    a = Read(init, lora.InitFile!, LoraAdapter.AName(module), lora.Rank, inDim);
                    b = Read(init, lora.InitFile!, LoraAdapter.BName(module), outDim, lora.Rank);
                }
                else
                {
                    float bound = 1f / MathF.Sqrt(inDim);
                    a = new float[lora.Rank * inDim];
                    for (int i = 0; i < a.Length; i++) a[i] = (2f * rng.NextSingle() - 1f) * bound;
                    b = new float[outDim * lora.Rank];
                }
                adapters.Add(new LoraAdapter(module,
                    Parameter(ops, LoraAdapter.AName(module), a, lora.Rank, inDim),
                    Parameter(ops, LoraAdapter.BName(module), b, outDim, lora.Rank),
                    (float)lora.Scaling));
            }
        return new LoraAdapters(adapters);
    }

    private static float[] Read(IReadOnlyDictionary<string, HostTensor> file, string path, string name, int rows, int cols)
    {
        if (!file.TryGetValue(name, out var t))
            throw new CheckpointFormatException(path, $"LoRA tensor '{name}' not found");
        if (!t.Shape.Equals(new Shape(rows, cols)))
            throw new CheckpointFormatException(path, $"LoRA tensor '{name}' has shape {t.Shape}, the model and lora.rank need [{rows}, {cols}]");
        return t.ToFloat32();
    }

    private static TrainableParameter Parameter(IOps ops, string name, float[] values, int rows, int cols) =>
        new(name, ops.Upload(values, new Shape(rows, cols), DType.F32), ops.Allocate(new Shape(rows, cols), DType.F32));

    public void Dispose()
    {
        foreach (var p in Parameters)
        {
            p.Value.Dispose();
            p.Grad.Dispose();
        }
    }
}
