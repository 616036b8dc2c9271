namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// Everything a token cache's contents depend on. Two builds with equal keys write identical token files, so a cache
/// whose manifest holds this key (compared by value, file hashes included) is used as is; any difference rebuilds it.
/// ValidationRatio is null when validation files were given (the ratio is not used then).
/// </summary>
public sealed record TokenCacheKey(
    int Format,
    IReadOnlyList<CachedFile> Sources,
    IReadOnlyList<CachedFile> Tokenizer,
    int VocabSize,
    int SeparatorId,
    TokenDType DType,
    int SeqLen,
    ulong Seed,
    double? ValidationRatio);
