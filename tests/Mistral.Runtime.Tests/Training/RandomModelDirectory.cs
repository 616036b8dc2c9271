using System.Text.Json;
using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training.Lora;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Training;

/// <summary>
/// A tiny random native model directory in a temp folder (params.json + consolidated.safetensors in F32), plus a LoRA
/// init file with non-zero A and B so every gradient is visible. Deleted on Dispose.
/// </summary>
public sealed class RandomModelDirectory : IDisposable
{
    public RandomModelDirectory(int seed = 5, int vocab = 40, int dim = 16, int layers = 2, int headDim = 4, int heads = 4,
        int kvHeads = 2, int hidden = 24, int window = 5, int rank = 2)
    {
        Path = Directory.CreateTempSubdirectory("random-model").FullName;
        Config = new MistralConfig(dim, layers, headDim, hidden, heads, kvHeads, window, 1e-5f, vocab, 10000f);
        File.WriteAllText(System.IO.Path.Combine(Path, "params.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["dim"] = dim, ["n_layers"] = layers, ["head_dim"] = headDim, ["hidden_dim"] = hidden, ["n_heads"] = heads,
            ["n_kv_heads"] = kvHeads, ["sliding_window"] = window, ["norm_eps"] = 1e-5, ["vocab_size"] = vocab, ["rope_theta"] = 10000.0,
        }));
        var rnd = new CaseRandom(seed);
        var tensors = new List<HostTensor>();
        foreach (var (name, shape) in MistralTensorNames.Expected(Config))
        {
            int count = (int)shape.ElementCount;
            float[] values = name.EndsWith("norm.weight", StringComparison.Ordinal)
                ? rnd.Normal(count, 0.1f).Select(v => 1 + v).ToArray()
                : rnd.Normal(count, 1f / MathF.Sqrt(shape[-1]));
            tensors.Add(HostTensor.FromFloat32(name, values, shape));
        }
        SafeTensorsWriter.Write(System.IO.Path.Combine(Path, ModelDirectory.ConsolidatedSafeTensors), tensors);

        var lora = new List<HostTensor>();
        var shapes = MistralTensorNames.Expected(Config).ToDictionary(e => e.Name, e => e.Shape);
        for (int layer = 0; layer < layers; layer++)
            foreach (var target in Mistral.Runtime.Training.Config.LoraConfig.AllTargets)
            {
                var module = target is "w1" or "w2" or "w3" ? $"layers.{layer}.feed_forward.{target}" : $"layers.{layer}.attention.{target}";
                var (o, i) = (shapes[module + ".weight"][0], shapes[module + ".weight"][1]);
                lora.Add(HostTensor.FromFloat32(LoraAdapter.AName(module), rnd.Normal(rank * i, 0.3f), new Shape(rank, i)));
                lora.Add(HostTensor.FromFloat32(LoraAdapter.BName(module), rnd.Normal(o * rank, 0.3f), new Shape(o, rank)));
            }
        InitFile = System.IO.Path.Combine(Path, "lora_init.safetensors");
        SafeTensorsWriter.Write(InitFile, lora);
        Rank = rank;
    }

    public string Path { get; }
    public MistralConfig Config { get; }
    public string InitFile { get; }
    public int Rank { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
