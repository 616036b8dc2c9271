using System.Text.Json;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model.Pth;

namespace Mistral.Runtime.Model;

/// <summary>
/// Writes a model given as native tensors (e.g. base weights with LoRA merged) as a new model directory in the same
/// layout and stored dtype as a source directory, so it loads wherever the source loads: native safetensors, native
/// .pth, or HF (names and layout through the family's <see cref="Models.CheckpointSchema"/>, e.g. Mistral's q/k rows
/// permuted back for rotate-half; tied tensors omitted; sharded into as many shards as the source had). Weights are written first and the config last, each file atomically; tokenizer and generation files
/// are copied. Tensors are requested one at a time, so a whole model never has to be in memory.
/// </summary>
public static class ModelWriter
{
    /// <summary>Small files copied verbatim from the source directory when present.</summary>
    private static readonly string[] SideFiles =
        ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "vocab.json", "merges.txt"];

    /// <param name="nativeTensor">Supplies each tensor by native name, in any float dtype; it is converted to the source's stored dtype (round to nearest even).</param>
    public static void Write(ModelDirectory source, string destination, Func<string, HostTensor> nativeTensor)
    {
        if (Path.GetFullPath(destination).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(source.DirectoryPath).TrimEnd(Path.DirectorySeparatorChar))
            throw new ArgumentException($"{destination}: is the source model directory; write the new model to another folder", nameof(destination));
        Directory.CreateDirectory(destination);

        var dtype = source.StoredDType;
        var expected = source.Schema.Stored.ToList();
        HostTensor Produce(string name, Shape shape)
        {
            var t = nativeTensor(name);
            if (t.Name != name || !t.Shape.Equals(shape))
                throw new ArgumentException($"model writer asked for '{name}' {shape} and got '{t.Name}' {t.Shape}");
            return t.DType == dtype ? t : HostTensor.FromFloat32(name, t.ToFloat32(), shape, dtype);
        }

        switch (source.Layout)
        {
            case ModelLayout.NativeSafeTensors:
                SafeTensorsWriter.Write(Path.Combine(destination, ModelDirectory.ConsolidatedSafeTensors),
                    expected.Select(e => new TensorSpec(e.Name, dtype, e.Shape)).ToList(), i => Produce(expected[i].Name, expected[i].Shape),
                    new Dictionary<string, string> { ["format"] = "pt" });
                break;
            case ModelLayout.NativePth:
                PthWriter.Write(Path.Combine(destination, ModelDirectory.ConsolidatedPth),
                    expected.Select(e => new TensorSpec(e.Name, dtype, e.Shape)).ToList(), i => Produce(expected[i].Name, expected[i].Shape));
                break;
            case ModelLayout.HuggingFace:
                WriteHf(source, destination, expected, Produce);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source.Layout, "unknown layout");
        }

        foreach (var file in SideFiles.Append(Path.GetFileName(source.ConfigPath)))
        {
            string from = Path.Combine(source.DirectoryPath, file);
            if (File.Exists(from))
                AtomicFile.Write(Path.Combine(destination, file), stream => { using var s = File.OpenRead(from); s.CopyTo(stream); });
        }
    }

    private static void WriteHf(ModelDirectory source, string destination, IReadOnlyList<(string Name, Shape Shape)> tensors, Func<string, Shape, HostTensor> produce)
    {
        var dtype = source.StoredDType;
        var names = source.Schema.Hf ?? throw new CheckpointFormatException(source.DirectoryPath,
            $"writing a {source.Family.Name} model in the Hugging Face layout is not supported yet");
        HostTensor ProduceHf((string Name, Shape Shape) e) =>
            names.ToStoredLayout(produce(e.Name, e.Shape), names.ToStored(e.Name), e.Name);
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };

        if (!source.IsSharded)
        {
            SafeTensorsWriter.Write(Path.Combine(destination, HfCheckpoint.SingleFileName),
                tensors.Select(e => new TensorSpec(names.ToStored(e.Name), dtype, e.Shape)).ToList(), i => ProduceHf(tensors[i]), metadata);
            return;
        }

        // As many shards as the source had, cut in checkpoint order at about equal byte counts.
        int shardCount = source.WeightFiles.Count;
        long total = tensors.Sum(e => e.Shape.ElementCount * dtype.SizeOf());
        var shards = Enumerable.Range(0, shardCount).Select(_ => new List<(string Name, Shape Shape)>()).ToArray();
        long written = 0;
        foreach (var e in tensors)
        {
            int shard = (int)Math.Min(shardCount - 1, written * shardCount / Math.Max(1, total));
            shards[shard].Add(e);
            written += e.Shape.ElementCount * dtype.SizeOf();
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int s = 0; s < shardCount; s++)
        {
            string file = $"model-{s + 1:D5}-of-{shardCount:D5}.safetensors";
            var list = shards[s];
            SafeTensorsWriter.Write(Path.Combine(destination, file),
                list.Select(e => new TensorSpec(names.ToStored(e.Name), dtype, e.Shape)).ToList(), i => ProduceHf(list[i]), metadata);
            foreach (var e in list) weightMap[names.ToStored(e.Name)] = file;
        }
        AtomicFile.Write(Path.Combine(destination, HfCheckpoint.IndexFileName), stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", total);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap) json.WriteString(name, file);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }
}
