using System.Text.Json;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Model;

/// <summary>
/// Writes a model's weights in a family's Hugging Face layout: model.safetensors, or that many shards plus
/// model.safetensors.index.json. Stored names, layouts and fused tensors come from the family's
/// <see cref="ITensorNameMap"/>; each file lists its tensors sorted by name with the metadata last, as the safetensors
/// library's save_file lays them out, so a model read and written back gives the reference's bytes. Each file atomic.
/// </summary>
internal static class HfWeightsWriter
{
    private static readonly Dictionary<string, string> Metadata = new() { ["format"] = "pt" };

    /// <param name="native">The native tensors to store (the schema's <see cref="CheckpointSchema.Stored"/>).</param>
    /// <param name="produce">Supplies each native tensor, checked and already in <paramref name="dtype"/>.</param>
    /// <param name="shardCount">1 for a single model.safetensors.</param>
    public static void Write(string destination, ITensorNameMap names, IReadOnlyList<(string Name, Shape Shape)> native, DType dtype,
        Func<string, Shape, HostTensor> produce, int shardCount = 1)
    {
        var stored = names.StoredTensors(native);
        HostTensor Produce(StoredTensor t) => names.ToStoredLayout(t, [.. t.Parts.Select(p => produce(p.Name, p.Shape))]);
        void WriteFile(string path, IEnumerable<StoredTensor> tensors)
        {
            var sorted = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
            SafeTensorsWriter.Write(path, sorted.Select(t => new TensorSpec(t.Name, dtype, t.Shape)).ToList(), i => Produce(sorted[i]), Metadata);
        }

        if (shardCount <= 1)
        {
            WriteFile(Path.Combine(destination, HfCheckpoint.SingleFileName), stored);
            return;
        }

        // Cut in checkpoint order at about equal byte counts, never leaving a shard empty (an index cannot list a file
        // that holds nothing): a shard starts at most one tensor after the previous, and early enough for the rest.
        shardCount = Math.Min(shardCount, stored.Count);
        long total = stored.Sum(t => t.Shape.ElementCount * dtype.SizeOf());
        var shards = Enumerable.Range(0, shardCount).Select(_ => new List<StoredTensor>()).ToArray();
        long written = 0;
        int shard = 0;
        for (int i = 0; i < stored.Count; i++)
        {
            int byBytes = (int)Math.Min(shardCount - 1, written * shardCount / Math.Max(1, total));
            shard = Math.Max(Math.Min(byBytes, shard + 1), Math.Max(shard, shardCount - (stored.Count - i)));
            shards[shard].Add(stored[i]);
            written += stored[i].Shape.ElementCount * dtype.SizeOf();
        }
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int s = 0; s < shardCount; s++)
        {
            string file = $"model-{s + 1:D5}-of-{shardCount:D5}.safetensors";
            WriteFile(Path.Combine(destination, file), shards[s]);
            foreach (var t in shards[s]) weightMap[t.Name] = file;
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
