using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Models;

/// <summary>
/// Every tensor a family's model of one config has: native names with their shapes in checkpoint order (what a
/// directory is validated against on open and what a writer writes), the tensors that share another's storage
/// (tied output → embeddings: read from it, never written twice) and the Hugging Face name map, or null for a family
/// whose Hugging Face layout the engine reads but does not write.
/// </summary>
public sealed record CheckpointSchema(IReadOnlyList<(string Name, Shape Shape)> Expected, IReadOnlyDictionary<string, string> Tied, ITensorNameMap? Hf)
{
    /// <summary>The tensor whose dtype is the checkpoint's stored dtype (the first one, the embeddings).</summary>
    public string First => Expected[0].Name;

    /// <summary>Tensors stored in a file: every expected one except those tied to another.</summary>
    public IEnumerable<(string Name, Shape Shape)> Stored => Expected.Where(e => !Tied.ContainsKey(e.Name));
}
