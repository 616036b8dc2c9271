using System.Diagnostics;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Evaluation;

/// <summary>
/// Per-token cross-entropy of sequences under a model, inference only: sequences are packed into cache-free forwards
/// of at most <see cref="TokensPerForward"/> input tokens (one sequence alone when it is longer), the logits [T, V]
/// go through <see cref="IOps.CrossEntropyForward"/> with weight 1 on the scored targets and 0 on the context, and
/// only the losses [T] (and argmax ids [T]) come back to the host. No tape is recorded. Shared by
/// <see cref="StridedPerplexity"/> and <see cref="LambadaEval"/>.
/// </summary>
public sealed class TokenScorer(ICausalLm model, int tokensPerForward)
{
    public ICausalLm Model { get; } = model;
    public int TokensPerForward { get; } = tokensPerForward > 0 ? tokensPerForward
        : throw new ArgumentOutOfRangeException(nameof(tokensPerForward), "tokens per forward must be positive");

    /// <summary>Time spent in forwards and scoring (not in building the sequences).</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Input tokens run through the model so far.</summary>
    public long TokensForwarded { get; private set; }

    /// <summary>The scores of every sequence, in order; sequences are read lazily, one forward's worth at a time.</summary>
    public IEnumerable<TokenScores> Score(IEnumerable<ScoredSequence> sequences, bool argmax = false)
    {
        var pending = new List<ScoredSequence>();
        int pendingTokens = 0;
        foreach (var sequence in sequences)
        {
            if (sequence.InputCount < 1 || sequence.ScoredFrom < 0 || sequence.ScoredFrom > sequence.InputCount)
                throw new ArgumentException($"a scored sequence needs at least 2 tokens and 0 <= scored-from <= {sequence.InputCount}, got {sequence.Tokens.Length} tokens from {sequence.ScoredFrom}");
            if (pending.Count > 0 && pendingTokens + sequence.InputCount > TokensPerForward)
            {
                foreach (var scores in ScorePacked(pending, argmax)) yield return scores;
                pending.Clear();
                pendingTokens = 0;
            }
            pending.Add(sequence);
            pendingTokens += sequence.InputCount;
        }
        if (pending.Count > 0)
            foreach (var scores in ScorePacked(pending, argmax)) yield return scores;
    }

    /// <summary>One forward over the packed sequences (each from position 0; attention never crosses them).</summary>
    private TokenScores[] ScorePacked(List<ScoredSequence> sequences, bool argmax)
    {
        var clock = Stopwatch.StartNew();
        var ops = Model.Ops;
        int total = sequences.Sum(s => s.InputCount);
        var inputs = new int[total];                                               // [T]
        var targets = new int[total];                                              // [T]
        var weights = new float[total];                                            // [T] 1 = scored
        int offset = 0;
        foreach (var s in sequences)
        {
            var tokens = s.Tokens.Span;
            tokens[..^1].CopyTo(inputs.AsSpan(offset));
            tokens[1..].CopyTo(targets.AsSpan(offset));
            weights.AsSpan(offset + s.ScoredFrom, s.ScoredCount).Fill(1f);
            offset += s.InputCount;
        }

        var batch = AttentionBatch.FromLengths(sequences.Select(s => s.InputCount).ToArray());
        var logits = Model.Forward(inputs, batch);                                 // [T, V], the model's scratch
        var losses = new float[total];
        var ids = argmax ? new int[total] : null;
        using (var targetsOnDevice = ops.Upload(targets, new Shape(total)))
        using (var weightsOnDevice = ops.Upload(weights, new Shape(total), DType.F32))
        using (var lossesOnDevice = ops.Allocate(new Shape(total), DType.F32))
        {
            ops.CrossEntropyForward(logits, targetsOnDevice, weightsOnDevice, lossesOnDevice);
            ops.Download(lossesOnDevice, losses);
            if (ids is not null)
            {
                using var idsOnDevice = ops.Allocate(new Shape(total), DType.I32);
                ops.Argmax(logits, idsOnDevice);
                ops.Download(idsOnDevice, ids);
            }
        }

        var result = new TokenScores[sequences.Count];
        offset = 0;
        for (int b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            int first = offset + s.ScoredFrom;
            bool[]? isArgmax = null;
            if (ids is not null)
            {
                isArgmax = new bool[s.ScoredCount];
                for (int i = 0; i < isArgmax.Length; i++) isArgmax[i] = ids[first + i] == targets[first + i];
            }
            result[b] = new TokenScores(losses.AsSpan(first, s.ScoredCount).ToArray(), isArgmax);
            offset += s.InputCount;
        }
        TokensForwarded += total;
        Elapsed += clock.Elapsed;
        return result;
    }
}
