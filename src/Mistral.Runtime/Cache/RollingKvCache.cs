using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Cache;

/// <summary>
/// The rolling KV cache of a batch of sequences (mistral-src RotatingBufferCache): per layer, keys and values
/// [Rows, Slots, NKvHeads·HeadDim] on the device, position p of a row in slot p % Slots, keys stored after RoPE.
/// On the host it tracks how many positions each row has seen, which is where that row's next token sits, and it
/// builds the <see cref="AttentionBatch"/> of each prefill chunk or decode step. The transformer reads and appends
/// the device tensors and calls <see cref="Advance"/> once a step has gone through every layer.
/// </summary>
public sealed class RollingKvCache : IDisposable
{
    private readonly KvCacheLayer[] _layers;
    private readonly int[] _lengths;
    private readonly int _window;

    /// <param name="rows">sequences the cache can hold at once.</param>
    /// <param name="slots">positions kept per row: the model's window, or fewer when no sequence can outgrow them (<see cref="SlotsFor"/>).</param>
    public RollingKvCache(IOps ops, IModelConfig config, int rows, int slots)
    {
        if (rows <= 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "a KV cache needs at least one row");
        if (slots <= 0) throw new ArgumentOutOfRangeException(nameof(slots), slots, "a KV cache needs at least one slot");
        if (slots > config.Window) throw new ArgumentOutOfRangeException(nameof(slots), slots, $"more slots than the model's attention window ({config.Window}) would hold positions attention never reads");
        Devices.MemoryBudget.Require(ops, $"a KV cache of {rows} sequence(s) × {slots:N0} positions × {config.LayerCount} layers",
            2.0 * config.LayerCount * rows * slots * config.KvHeads * config.HeadDim * ops.ActivationDType.SizeOf());
        Rows = rows;
        Slots = slots;
        _window = config.Window;
        _lengths = new int[rows];
        _layers = new KvCacheLayer[config.LayerCount];
        var shape = new Shape(rows, slots, config.KvHeads * config.HeadDim); // [Rows, Slots, Hkv·Dh]
        for (int i = 0; i < _layers.Length; i++)
            _layers[i] = new KvCacheLayer(ops.Allocate(shape, ops.ActivationDType), ops.Allocate(shape, ops.ActivationDType), slots);
    }

    /// <summary>
    /// mistral-src's cache size: min(longest prompt + new tokens, window). Below the window no sequence ever needs an
    /// overwritten slot, so the smaller cache gives the same results.
    /// </summary>
    public static int SlotsFor(IModelConfig config, int longestPrompt, int maxNewTokens) =>
        (int)Math.Max(1, Math.Min((long)longestPrompt + maxNewTokens, config.Window));

    public int Rows { get; }
    public int Slots { get; }
    public int LayerCount => _layers.Length;

    public KvCacheLayer Layer(int layer) => _layers[layer];

    /// <summary>Positions row <paramref name="row"/> has seen: the absolute position of its next token.</summary>
    public int Length(int row) => _lengths[row];

    /// <summary>
    /// The batch of one step: sequence b brings newTokens[b] tokens for cache row rows[b], packed in that order,
    /// starting at that row's current length. Rows may be left out (finished sequences, exhausted prompts).
    /// </summary>
    public AttentionBatch NextBatch(IReadOnlyList<int> rows, IReadOnlyList<int> newTokens)
    {
        if (rows.Count != newTokens.Count) throw new ArgumentException($"kv cache: {rows.Count} rows but {newTokens.Count} token counts");
        var offsets = new int[rows.Count];
        var starts = new int[rows.Count];
        var seen = new bool[Rows];
        int t = 0;
        for (int b = 0; b < rows.Count; b++)
        {
            int row = rows[b];
            if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(rows), row, $"kv cache has rows 0..{Rows - 1}");
            if (seen[row]) throw new ArgumentException($"kv cache: row {row} appears twice in one step");
            seen[row] = true;
            if (newTokens[b] <= 0) throw new ArgumentException($"kv cache: row {row} brings {newTokens[b]} tokens; leave a row out of the step instead");
            long end = (long)_lengths[row] + newTokens[b];
            // With fewer slots than the window an overwritten slot would still be inside the window: refuse rather than
            // attend over the wrong keys.
            if (Slots < _window && end > Slots)
                throw new InvalidOperationException($"kv cache row {row} would reach {end} positions but holds {Slots} slots and the window is {_window}; size the cache with SlotsFor");
            offsets[b] = t;
            starts[b] = _lengths[row];
            t += newTokens[b];
        }
        return new AttentionBatch(offsets, newTokens.ToArray(), starts, rows.ToArray());
    }

    /// <summary>Records that the step described by <paramref name="batch"/> has been written to every layer.</summary>
    public void Advance(AttentionBatch batch)
    {
        for (int b = 0; b < batch.SequenceCount; b++)
        {
            int row = batch.CacheRows[b];
            if (batch.StartPositions[b] != _lengths[row])
                throw new InvalidOperationException($"kv cache row {row} is at position {_lengths[row]} but the step started at {batch.StartPositions[b]}");
            _lengths[row] += batch.Lengths[b];
        }
    }

    /// <summary>
    /// Undoes <see cref="Advance"/> of <paramref name="batch"/> when the step it recorded did not run (a CUDA graph
    /// capture that failed after the forward's host bookkeeping); rows that never advanced stay as they are.
    /// </summary>
    public void Rewind(AttentionBatch batch)
    {
        for (int b = 0; b < batch.SequenceCount; b++)
        {
            int row = batch.CacheRows[b];
            if (_lengths[row] == batch.StartPositions[b] + batch.Lengths[b]) _lengths[row] = batch.StartPositions[b];
        }
    }

    /// <summary>Forgets every row (the tensors keep their stale contents; nothing reads a slot before it is written again).</summary>
    public void Reset() => Array.Clear(_lengths);

    /// <summary>Forgets one row, so a new sequence can start in it at position 0 (a server reusing a finished request's row).</summary>
    public void Reset(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"kv cache has rows 0..{Rows - 1}");
        _lengths[row] = 0;
    }

    public void Dispose()
    {
        foreach (var layer in _layers)
        {
            layer.Keys.Dispose();
            layer.Values.Dispose();
        }
    }
}
