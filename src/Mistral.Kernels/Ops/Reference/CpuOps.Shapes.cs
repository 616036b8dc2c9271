using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>The shape contracts of the op families, checked once here for forward and backward alike.</summary>
public sealed partial class CpuOps
{
    private static void CheckTokenIds(string op, ReadOnlySpan<int> ids, int vocab)
    {
        for (int t = 0; t < ids.Length; t++)
            if ((uint)ids[t] >= (uint)vocab)
                throw new ArgumentException($"{op}: token id {ids[t]} at [{t}] is outside the table's {vocab} rows");
    }

    private static void CheckRmsNormShapes(string op, Tensor x, Tensor weight) => CheckRowVector(op, x, "weight", weight);

    private static void CheckRowVector(string op, Tensor x, string name, Tensor vector) => CheckRowVector(op, "x", x, name, vector);

    /// <summary>A per-feature parameter (norm weight or bias) of a [rows, D] tensor: [D], D &gt; 0.</summary>
    private static void CheckRowVector(string op, string rowsName, Tensor rows, string name, Tensor vector)
    {
        OpChecks.That(vector.Shape.Rank == 1 && rows.Shape.Rank >= 1 && rows.Shape[-1] == vector.Shape[0] && vector.Shape[0] > 0, op,
            $"{name} {vector.Shape} must be [D] with D the last dimension of {rowsName} {rows.Shape}");
    }

    /// <summary>mean and rstd of a norm: F32, one per row of x.</summary>
    private static void CheckRowStatistic(string op, string name, Tensor statistic, Tensor x) =>
        OpChecks.Count(op, name, statistic, x.Shape.Rows, $"[{x.Shape.Rows}] (one per row of x {x.Shape})");

    private static void CheckRopeShapes(string op, Tensor x, Tensor positions, int headDim, Tensor y, ReadOnlySpan<int> positionValues)
    {
        OpChecks.That(headDim > 0 && headDim % 2 == 0, op, $"head dim {headDim} must be positive and even (rotated in pairs)");
        long tokens = positions.ElementCount;
        OpChecks.That(tokens > 0 ? x.ElementCount % (tokens * headDim) == 0 : x.ElementCount == 0, op,
            $"x {x.Shape} is not [T, heads·{headDim}] for T = {tokens} positions {positions.Shape}");
        OpChecks.SameShape(op, "y", y, "x", x);
        foreach (var p in positionValues)
            OpChecks.That(p >= 0, op, $"negative position {p}");
    }

    private static void CheckAttentionShapes(string op, Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config)
    {
        OpChecks.That(config.NHeads > 0 && config.NKvHeads > 0 && config.NHeads % config.NKvHeads == 0, op,
            $"{config.NHeads} heads cannot share {config.NKvHeads} kv heads evenly");
        OpChecks.That(config.HeadDim > 0 && config.Window > 0, op, $"head dim {config.HeadDim} and window {config.Window} must be positive");
        int tokens = batch.TotalTokens;
        OpChecks.Count(op, "q", q, OpChecks.Elements(tokens, config.NHeads * config.HeadDim), $"[{tokens}, {config.NHeads}·{config.HeadDim}] (tokens × heads·head dim)");
        OpChecks.Count(op, "k", k, OpChecks.Elements(tokens, config.NKvHeads * config.HeadDim), $"[{tokens}, {config.NKvHeads}·{config.HeadDim}] (tokens × kv heads·head dim)");
        OpChecks.SameShape(op, "v", v, "k", k);
    }

    private static (CpuTensor Keys, CpuTensor Values) CheckCache(string op, KvCacheLayer cache, AttentionBatch batch, int kvWidth)
    {
        var keys = OpChecks.Float(op, "cache keys", cache.Keys);
        var values = OpChecks.Float(op, "cache values", cache.Values);
        OpChecks.That(cache.Slots > 0, op, $"cache has {cache.Slots} slots");
        OpChecks.SameShape(op, "cache values", cache.Values, "cache keys", cache.Keys);
        var shape = cache.Keys.Shape;
        OpChecks.That(shape.Rank >= 1 && shape[0] > 0 && shape.ElementCount == (long)shape[0] * cache.Slots * kvWidth, op,
            $"cache keys {shape} must be [rows, {cache.Slots} slots, {kvWidth}]");
        for (int b = 0; b < batch.SequenceCount; b++)
            OpChecks.That((uint)batch.CacheRows[b] < (uint)shape[0], op, $"sequence {b} uses cache row {batch.CacheRows[b]}, the cache has {shape[0]} rows");
        return (keys, values);
    }

    private static void CheckCrossEntropyShapes(string op, Tensor logits, Tensor targets, Tensor weights, ReadOnlySpan<int> targetIds)
    {
        OpChecks.That(logits.Shape.Rank == 2 && logits.Shape[1] > 0, op, $"logits {logits.Shape} must be [T, V]");
        int tokens = logits.Shape[0], vocab = logits.Shape[1];
        OpChecks.Count(op, "targets", targets, tokens, $"[{tokens}] (one per row of logits {logits.Shape})");
        OpChecks.Count(op, "weights", weights, tokens, $"[{tokens}] (one per row of logits {logits.Shape})");
        for (int t = 0; t < targetIds.Length; t++)
            OpChecks.That((uint)targetIds[t] < (uint)vocab, op, $"target {targetIds[t]} at [{t}] is outside the vocab of {vocab}");
    }
}
