using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Model.Pth;

namespace Mistral.Runtime.Models.Gpt2;

/// <summary>
/// A GPT-2 checkpoint as Hugging Face users have them, under the canonical names of <see cref="Gpt2TensorNames"/>
/// and in the engine's layout: model.safetensors or shards with model.safetensors.index.json, pytorch_model.bin (the
/// torch.save zip older Trainer checkpoints hold) or its shards with pytorch_model.bin.index.json; names with or
/// without "transformer."; fp32, fp16 or bf16. The attn.bias / attn.masked_bias buffers are ignored. With
/// tie_word_embeddings a stored lm_head.weight must equal wte.weight and is not exposed (the head is wte); a
/// different one is refused rather than silently dropped, since a model trained with an untied head would then give
/// other logits. Everything is checked against the config on <see cref="Open"/>: missing tensors, shapes (Conv1D
/// weights stored [in, out]), float dtypes, a tensor stored twice (across shards or with and without the prefix),
/// blocks beyond n_layer. Tensors read are views of mapped files or owned copies; valid until disposed.
/// </summary>
public sealed class Gpt2Checkpoint : Checkpoint
{
    public const string SafeTensorsFileName = "model.safetensors";
    public const string SafeTensorsIndexFileName = "model.safetensors.index.json";
    public const string PytorchFileName = "pytorch_model.bin";
    public const string PytorchIndexFileName = "pytorch_model.bin.index.json";

    /// <summary>The weight files in the order from_pretrained prefers them: the first present is used.</summary>
    private static readonly string[] WeightFileNames = [SafeTensorsFileName, SafeTensorsIndexFileName, PytorchFileName, PytorchIndexFileName];

    private readonly Gpt2Config _config;
    private readonly HashSet<string> _parameterNames;   // canonical names a checkpoint may hold for this config
    private readonly List<Checkpoint> _sources = [];
    private readonly List<string> _files = [];
    private readonly Dictionary<string, (Checkpoint Source, TensorInfo Stored)> _stored = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    private bool _sharded;

    private Gpt2Checkpoint(Gpt2Config config)
    {
        _config = config;
        _parameterNames = Gpt2TensorNames.Expected(config).Select(e => e.Name).Append(Gpt2TensorNames.LmHead).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Every canonical tensor of the config, with its engine-layout shape; StoredName is the name in the file.</summary>
    public override IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    /// <summary>True when the weights come from shards listed in an index file.</summary>
    public override bool IsSharded => _sharded;

    /// <summary>The weight files (one, or every shard in index order).</summary>
    public override IReadOnlyList<string> Files => _files;

    /// <summary>Is there a GPT-2 weight file (single or index, safetensors or torch) in this folder?</summary>
    public static bool Exists(string directory) => WeightFileNames.Any(n => File.Exists(Path.Combine(directory, n)));

    public static Gpt2Checkpoint Open(string directory, Gpt2Config config)
    {
        string? found = WeightFileNames.Select(n => Path.Combine(directory, n)).FirstOrDefault(File.Exists)
            ?? throw new CheckpointFormatException(directory, $"no GPT-2 weights in this folder: expected {string.Join(", ", WeightFileNames)}");
        string name = Path.GetFileName(found);
        return name.EndsWith(".index.json", StringComparison.Ordinal)
            ? Open(config, c => c.OpenShards(ShardIndex.Load(found), safeTensors: name == SafeTensorsIndexFileName))
            : Open(config, c => c.AddTensors(c.OpenFile(found, safeTensors: name == SafeTensorsFileName)));
    }

    /// <summary>
    /// One safetensors file of GPT-2 tensors in the Hugging Face layout under any name (e.g. a fixture's gradients or
    /// final weights), read and checked as <see cref="Open"/> reads a directory's model.safetensors.
    /// </summary>
    public static Gpt2Checkpoint OpenSafeTensors(string path, Gpt2Config config) =>
        Open(config, c => c.AddTensors(c.OpenFile(path, safeTensors: true)));

    private static Gpt2Checkpoint Open(Gpt2Config config, Action<Gpt2Checkpoint> addTensors)
    {
        var checkpoint = new Gpt2Checkpoint(config);
        try
        {
            addTensors(checkpoint);
            checkpoint.CheckTiedHead();
            checkpoint.CheckAgainstConfig();
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>The tensor under its canonical name in engine layout; Conv1D weights come back transposed to [out, in].</summary>
    public override HostTensor Read(string canonicalName)
    {
        if (!_tensors.ContainsKey(canonicalName))
            throw MissingTensor(string.Join(", ", Files), canonicalName);
        var (source, stored) = _stored[canonicalName];
        var tensor = source.Read(stored.Name);
        return Gpt2TensorNames.IsConv1DWeight(canonicalName) ? Conv1DWeight.ToLinear(tensor, canonicalName) : tensor.WithName(canonicalName);
    }

    public override void Dispose()
    {
        foreach (var source in _sources) source.Dispose();
        _sources.Clear();
        _files.Clear();
    }

    private Checkpoint OpenFile(string path, bool safeTensors)
    {
        Checkpoint source = safeTensors ? new NativeSafeTensorsCheckpoint(path) : PthCheckpoint.Open(path);
        _sources.Add(source);
        _files.Add(path);
        return source;
    }

    private void OpenShards(ShardIndex index, bool safeTensors)
    {
        _sharded = true;
        foreach (var shard in index.ShardPaths)
        {
            var source = OpenFile(shard, safeTensors);
            foreach (var (tensor, file) in index.WeightMap)
                if (file == shard && !source.Tensors.ContainsKey(tensor))
                    throw new CheckpointFormatException(shard, $"{Path.GetFileName(index.FilePath)} places tensor '{tensor}' in this file, but the file does not hold it");
            AddTensors(source);
        }
    }

    /// <summary>Maps a file's stored names to canonical ones: buffers and tensors outside GPT-2's parameters skipped.</summary>
    private void AddTensors(Checkpoint source)
    {
        foreach (var stored in source.Tensors.Values)
        {
            if (Gpt2TensorNames.ToCanonical(stored.Name) is not string canonical)
                continue;
            if (!_parameterNames.Contains(canonical))
            {
                if (Gpt2TensorNames.LayerOf(canonical) is int layer)
                    throw new CheckpointFormatException(stored.FilePath, layer >= _config.NLayer
                        ? $"tensor '{stored.Name}' belongs to block {layer}, but the config has n_layer {_config.NLayer} (blocks 0 to {_config.NLayer - 1})"
                        : $"tensor '{stored.Name}' is not a parameter of a GPT-2 block (expected ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj)");
                continue; // another head (multiple_choice_head, score) or anything else the language model does not use
            }
            if (_stored.TryGetValue(canonical, out var first))
                throw new CheckpointFormatException(stored.FilePath,
                    $"tensor '{canonical}' is stored twice: as '{first.Stored.Name}' in {first.Stored.FilePath} and as '{stored.Name}' in {stored.FilePath}");
            _stored[canonical] = (source, stored);
        }
    }

    /// <summary>With a tied head, a stored lm_head.weight is a copy of wte.weight (HF Trainer's torch.save keeps both).</summary>
    private void CheckTiedHead()
    {
        if (!_config.TieWordEmbeddings || !_stored.TryGetValue(Gpt2TensorNames.LmHead, out var head))
            return;
        if (_stored.TryGetValue(Gpt2TensorNames.Wte, out var wte))
        {
            var a = head.Source.Read(head.Stored.Name);
            var b = wte.Source.Read(wte.Stored.Name);
            if (a.DType != b.DType || !a.Shape.Equals(b.Shape) || !a.Bytes.SequenceEqual(b.Bytes))
                throw new CheckpointFormatException(head.Stored.FilePath,
                    $"tensor '{head.Stored.Name}' differs from '{wte.Stored.Name}', but the config has tie_word_embeddings true (the head is wte); set tie_word_embeddings to false to use the stored head");
        }
        _stored.Remove(Gpt2TensorNames.LmHead);
    }

    /// <summary>Every tensor the config implies, present with its stored shape ([in, out] for Conv1D) and a float dtype.</summary>
    private void CheckAgainstConfig()
    {
        foreach (var (name, shape) in Gpt2TensorNames.Expected(_config))
        {
            if (!_stored.TryGetValue(name, out var entry))
                throw new CheckpointFormatException(string.Join(", ", Files), name == Gpt2TensorNames.LmHead
                    ? $"tensor '{name}' not found; the config has tie_word_embeddings false, so the head must be stored"
                    : $"tensor '{name}' (or '{Gpt2TensorNames.TransformerPrefix}{name}') not found");
            var stored = entry.Stored;
            bool conv1D = Gpt2TensorNames.IsConv1DWeight(name);
            var expected = conv1D ? new Shape(shape[1], shape[0]) : shape;
            if (!stored.Shape.Equals(expected))
                throw new CheckpointFormatException(stored.FilePath, $"tensor '{stored.Name}' has shape {stored.Shape}, expected {expected}"
                    + (conv1D ? " (Conv1D [in, out])" : "") + " from the config"
                    + (conv1D && stored.Shape.Equals(shape) ? "; it is stored [out, in] (nn.Linear), but GPT-2 checkpoints store Conv1D weights [in, out]" : ""));
            if (!stored.DType.IsFloat())
                throw new CheckpointFormatException(stored.FilePath, $"tensor '{stored.Name}' has dtype {stored.DType}, expected a float dtype (F32, BF16, F16)");
            _tensors[name] = new TensorInfo(name, stored.DType, shape, stored.FilePath, stored.Name);
        }
    }
}
