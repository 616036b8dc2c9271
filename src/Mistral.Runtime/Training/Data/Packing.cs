namespace Mistral.Runtime.Training.Data;

/// <summary>
/// Packs documents into windows of seqLen inputs like mistral-finetune's sequence iterator: each document contributes
/// its own (input, target) pairs (inputs = tokens[..^1], targets = tokens[1..]), so no target ever belongs to another
/// document; pieces are appended until the window is full; a document longer than the room left is cut, and its
/// remainder starts the next window as a new sequence (positions from 0 again). The last window may be shorter.
/// </summary>
public static class Packing
{
    public static List<PackedWindow> Pack(IEnumerable<TokenizedDocument> documents, int seqLen)
    {
        if (seqLen < 2) throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen, "seq_len must be at least 2");
        var windows = new List<PackedWindow>();
        var inputs = new List<int>(seqLen);
        var targets = new List<int>(seqLen);
        var weights = new List<float>(seqLen);
        var lengths = new List<int>();

        void Flush()
        {
            if (inputs.Count == 0) return;
            windows.Add(new PackedWindow([.. inputs], [.. targets], [.. weights], [.. lengths]));
            inputs.Clear();
            targets.Clear();
            weights.Clear();
            lengths.Clear();
        }

        foreach (var doc in documents)
        {
            int pairs = doc.Tokens.Length - 1; // a 1-token document has nothing to predict
            int start = 0;
            while (start < pairs)
            {
                int take = Math.Min(pairs - start, seqLen - inputs.Count);
                for (int i = start; i < start + take; i++)
                {
                    inputs.Add(doc.Tokens[i]);
                    targets.Add(doc.Tokens[i + 1]);
                    weights.Add(doc.LossMask[i + 1]);
                }
                lengths.Add(take);
                start += take;
                if (inputs.Count == seqLen) Flush();
            }
        }
        Flush();
        return windows;
    }
}
