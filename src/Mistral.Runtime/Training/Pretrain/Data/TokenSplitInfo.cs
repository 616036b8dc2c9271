namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// One split of a token cache: its token file (name inside the cache folder), the documents that went in, the tokens of
/// the stream (separators included), the whole blocks kept and the tokens dropped after the last whole block.
/// </summary>
public sealed record TokenSplitInfo(string File, int Documents, long StreamTokens, int Blocks, long DroppedTokens);
