namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>Where tokenizing a split stands: documents done of Total, tokens written (separators included), time spent.</summary>
public sealed record TokenizeProgress(string Split, int Documents, int TotalDocuments, long Tokens, TimeSpan Elapsed)
{
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? Tokens / Elapsed.TotalSeconds : 0;
}
