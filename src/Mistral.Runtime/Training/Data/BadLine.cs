namespace Mistral.Runtime.Training.Data;

/// <summary>A line that was skipped, 1-based line number.</summary>
public sealed record BadLine(string File, int Line, string Problem)
{
    public override string ToString() => $"{System.IO.Path.GetFileName(File)}:{Line}: {Problem}";
}
