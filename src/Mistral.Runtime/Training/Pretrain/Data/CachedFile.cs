namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>A file a token cache was built from: absolute path, Role ("train", "validation" or "tokenizer"), size and SHA-256 (hex).</summary>
public sealed record CachedFile(string Path, string Role, long Size, string Sha256);
