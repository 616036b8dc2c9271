namespace Mistral.Runtime.Training.Data;

/// <summary>
/// At most seq_len model inputs made of document pieces laid back to back. Piece i covers SequenceLengths[i] tokens; each
/// piece is its own attention sequence with positions from 0, so attention never crosses a document boundary.
/// Inputs, Targets [T] token ids; Weights [T] loss weight of each target (0 or 1).
/// </summary>
public sealed record PackedWindow(int[] Inputs, int[] Targets, float[] Weights, int[] SequenceLengths)
{
    public int Length => Inputs.Length;
}
