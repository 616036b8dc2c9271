using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;
using Mistral.Runtime.Tokenizer;

namespace Mistral.Runtime.Model;

/// <summary>
/// Writes a model made in memory (trained from scratch: a config and native tensors, no source directory) as a
/// Hugging Face model directory that transformers loads as is and <see cref="ModelDirectory.Open"/> reads back:
/// model.safetensors in the family's HF names and layouts (<see cref="HfWeightsWriter"/>: Mistral's q/k rows permuted
/// for rotate-half, GPT-2's c_attn fused and Conv1D weights [in, out], a tied head not stored), the tokenizer files,
/// generation_config.json and config.json (<see cref="ModelFamily.HfConfigJson"/>) last, each file atomically. The
/// caller that needs the whole folder atomic (a trainer's checkpoint) writes into a temporary folder and renames it.
/// </summary>
public static class HfModelWriter
{
    /// <summary>Tokenizer files a directory may hold, copied when present (a versioned tokenizer.model.vN too).</summary>
    private static readonly string[] TokenizerFileNames =
    [
        TokenizerFiles.SentencePieceFileName, TokenizerFiles.HuggingFaceFileName, Gpt2ByteLevelBpe.VocabFileName, Gpt2ByteLevelBpe.MergesFileName,
        "tokenizer_config.json", "special_tokens_map.json",
    ];

    public const string GenerationConfigFileName = "generation_config.json";

    /// <param name="nativeTensor">Supplies each tensor of the family's schema by native name, in any float dtype.</param>
    /// <param name="storedDType">F32, BF16 or F16: what the file stores (round to nearest even when narrowing) and config.json's torch_dtype.</param>
    /// <param name="tokenizerSource">A directory holding tokenizer files, a single tokenizer file, or null for none.</param>
    public static void Write(string destination, IModelConfig config, Func<string, HostTensor> nativeTensor, DType storedDType, string? tokenizerSource)
    {
        var family = ModelFamilies.Of(config);
        var schema = family.Schema(config);
        var names = schema.Hf ?? throw new ArgumentException($"writing a {family.Name} model in the Hugging Face layout is not supported yet", nameof(config));
        var json = family.HfConfigJson(config, storedDType);   // refuses a dtype weights are not stored in before anything is written
        var tokenizerFiles = tokenizerSource is null ? [] : TokenizerCopies(tokenizerSource);
        Directory.CreateDirectory(destination);

        HfWeightsWriter.Write(destination, names, [.. schema.Stored], storedDType, ModelWriter.Converting(nativeTensor, storedDType));
        foreach (var (from, name) in tokenizerFiles)
            AtomicFile.Write(Path.Combine(destination, name), stream => { using var s = File.OpenRead(from); s.CopyTo(stream); });
        var generation = new JsonObject();
        foreach (var id in (string[])["bos_token_id", "eos_token_id"])
            if (json[id] is JsonNode value) generation[id] = value.DeepClone();
        WriteJson(Path.Combine(destination, GenerationConfigFileName), generation);
        WriteJson(Path.Combine(destination, ModelDirectory.ConfigJson), json);
    }

    /// <summary>
    /// Which files to copy under which name. A single file keeps its name when a model directory looks for it under
    /// it, else is named by what <see cref="TokenizerFiles.Load"/> reads it as (*.json → tokenizer.json, anything else →
    /// tokenizer.model); vocab.json or merges.txt brings its sibling.
    /// </summary>
    private static List<(string From, string Name)> TokenizerCopies(string source)
    {
        string file = TokenizerFiles.Resolve(source);   // one clear error for a missing source or a directory without a tokenizer
        if (Directory.Exists(source))
            return [.. Directory.EnumerateFiles(source)
                .Select(f => (From: f, Name: Path.GetFileName(f)))
                .Where(f => TokenizerFileNames.Contains(f.Name) || f.From == file)
                .OrderBy(f => f.Name, StringComparer.Ordinal)];
        string name = Path.GetFileName(file);
        string folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        if (name is Gpt2ByteLevelBpe.VocabFileName or Gpt2ByteLevelBpe.MergesFileName)
            return [.. ((string[])[Gpt2ByteLevelBpe.VocabFileName, Gpt2ByteLevelBpe.MergesFileName]).Select(n => (Path.Combine(folder, n), n))];
        bool found = TokenizerFileNames.Contains(name) || name.StartsWith(TokenizerFiles.SentencePieceFileName + ".v", StringComparison.Ordinal);
        return [(file, found ? name
            : name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? TokenizerFiles.HuggingFaceFileName : TokenizerFiles.SentencePieceFileName)];
    }

    /// <summary>As transformers writes its json files: keys sorted, two-space indent, a final newline.</summary>
    private static void WriteJson(string path, JsonObject json)
    {
        var sorted = new JsonObject();
        foreach (var (key, value) in json.OrderBy(p => p.Key, StringComparer.Ordinal))
            sorted[key] = value?.DeepClone();
        AtomicFile.Write(path, stream =>
        {
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                sorted.WriteTo(writer);
            stream.WriteByte((byte)'\n');
        });
    }
}
