using Mistral.Kernels.Device;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// The device copy of an <see cref="AttentionBatch"/> that the attention kernels read: one AttentionSequence
/// {token_offset, length, start_position, cache_row} of four int32 per sequence (kernels/cu/attention_common.cuh).
/// The buffer is allocated once for <see cref="Capacity"/> sequences and rewritten per call, so its address is stable
/// (a captured decode step reads the positions of the current token from it). A host mirror of what the device holds
/// (uploads, and the decode advance's + 1) lets an upload of the very same entries copy nothing: a decode step whose
/// table the previous step advanced on the device makes no host round trip for it.
/// </summary>
public sealed class AttentionSequenceTable : IDisposable
{
    private const int FieldsPerSequence = 4;
    private readonly IDevice _device;
    private readonly DeviceBuffer _buffer;
    private readonly int[] _host;
    private readonly int[] _held;    // what the device buffer holds, as far as this table wrote it
    private int _heldCount = -1;     // entries of _held that are valid; -1: unknown (never written)

    public AttentionSequenceTable(IDevice device, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _device = device;
        Capacity = capacity;
        _host = new int[capacity * FieldsPerSequence];
        _held = new int[capacity * FieldsPerSequence];
        _buffer = device.Allocate((long)_host.Length * sizeof(int));
    }

    public int Capacity { get; }

    /// <summary>Device address of the table ([Capacity, 4] int32).</summary>
    public ulong Pointer => _buffer.Pointer;

    /// <summary>Writes <paramref name="batch"/> into the table; returns what the launchers need to know about it.</summary>
    public AttentionSequences Upload(AttentionBatch batch)
    {
        if (batch.SequenceCount > Capacity)
            throw new ArgumentException($"attention batch of {batch.SequenceCount} sequences, but the device table holds {Capacity}");
        int maxLength = 0;
        for (int b = 0; b < batch.SequenceCount; b++)
        {
            _host[b * FieldsPerSequence + 0] = batch.TokenOffsets[b];
            _host[b * FieldsPerSequence + 1] = batch.Lengths[b];
            _host[b * FieldsPerSequence + 2] = batch.StartPositions[b];
            _host[b * FieldsPerSequence + 3] = batch.CacheRows[b];
            maxLength = Math.Max(maxLength, batch.Lengths[b]);
        }
        int count = batch.SequenceCount * FieldsPerSequence;
        if (_heldCount != count || !_host.AsSpan(0, count).SequenceEqual(_held.AsSpan(0, count)))
        {
            _device.CopyToDevice<int>(_host.AsSpan(0, count), _buffer.AsSpan<int>().Slice(0, count));
            _host.AsSpan(0, count).CopyTo(_held);
            _heldCount = count;
        }
        return new AttentionSequences(Pointer, batch.SequenceCount, maxLength, batch.TotalTokens);
    }

    /// <summary>Notes that a kernel (attention_decode_advance) moved every start position of the first <paramref name="count"/> entries one on.</summary>
    public void AdvancedOnDevice(int count)
    {
        if (_heldCount != count * FieldsPerSequence) throw new InvalidOperationException($"sequence table: advanced {count} entries, but it holds {_heldCount / FieldsPerSequence}");
        for (int b = 0; b < count; b++) _held[b * FieldsPerSequence + 2]++;
    }

    public void Dispose() => _buffer.Dispose();
}

/// <summary>A sequence table on the device and the sizes a launch grid is made from.</summary>
/// <param name="Table">Device address of [Count] AttentionSequence entries.</param>
/// <param name="MaxLength">Longest chunk in the batch (the grid covers it; shorter sequences' extra blocks exit).</param>
/// <param name="TotalTokens">Packed tokens T (the row count of q, k, v and y; the stride of lse).</param>
public readonly record struct AttentionSequences(ulong Table, int Count, int MaxLength, int TotalTokens);
