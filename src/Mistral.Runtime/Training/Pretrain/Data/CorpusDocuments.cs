using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// The documents of some corpus files, in file order then line order (see <see cref="TextCorpusReader"/>), with the lines
/// that were skipped (file and 1-based line number). LineCount: non-blank lines read, bad ones included.
/// </summary>
public sealed record CorpusDocuments(IReadOnlyList<string> Documents, IReadOnlyList<BadLine> BadLines, int LineCount);
