using Mistral.Kernels.Device;
using Mistral.Kernels.Native;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Generation;

/// <summary>
/// The greedy decode step as one unit (gpt-fast's decode_one_token): every sequence brings one token, and embedding →
/// layers → norm → output → argmax run on the device; only the chosen ids (4 bytes a sequence) come back to the host,
/// never the logits. Its inputs live at fixed device addresses (token ids, positions, the attention sequence table),
/// so on a device that can capture graphs (<see cref="IDevice.GraphCapture"/>: CUDA, and the emulator, which records
/// and replays the same way and refuses what a capturing stream refuses) the step is captured once and replayed (one
/// launch instead of 11 per layer); elsewhere the same body runs eagerly.
/// The device writes the next step's inputs itself: the argmax goes straight into the token ids, and
/// <see cref="IDeviceOps.AdvanceDecodeStep"/> moves the positions and the sequence table one token on after the step.
/// So when the host feeds back the ids the step chose (greedy: always), a step makes one host round trip, the
/// download of those ids; the first step, or other tokens, upload the inputs as well. Works for any family (<see cref="ICausalLm"/>) on any ops with <see cref="IOps.OnDevice"/>.
/// Valid for one generation: the model must run no step of another shape between two decode steps (its scratch
/// buffers, and so the graph's addresses, would move).
/// </summary>
public sealed class DecodeGraph : IDisposable
{
    private readonly ICausalLm _model;
    private readonly IDeviceOps _device;
    private readonly RollingKvCache _cache;
    private readonly int[] _rows;
    private readonly int[] _ones;
    private readonly Tensor _tokens;     // I32 [B] this step's ids; the argmax overwrites them with the next step's
    private readonly Tensor _positions;  // I32 [B]
    private readonly int[] _hostPositions;
    private int[]? _onDevice;            // the ids _tokens holds, with positions and table advanced for them; null: unknown
    private IDeviceGraph? _graph;
    private int _steps;

    /// <param name="rows">the cache row of each sequence, in the order tokens are passed to <see cref="Step"/>.</param>
    /// <param name="device">what the model's ops can do on their device (<see cref="IOps.OnDevice"/> of model.Ops).</param>
    public DecodeGraph(ICausalLm model, IDeviceOps device, RollingKvCache cache, IReadOnlyList<int> rows)
    {
        if (!ReferenceEquals(model.Ops.OnDevice, device)) throw new ArgumentException("decode graph: the model runs on other ops");
        if (rows.Count == 0) throw new ArgumentException("decode graph: no sequences");
        _model = model;
        _device = device;
        _cache = cache;
        _rows = rows.ToArray();
        _ones = Enumerable.Repeat(1, _rows.Length).ToArray();
        var ops = model.Ops;
        _tokens = ops.Allocate(new Shape(_rows.Length), DType.I32);
        _positions = ops.Allocate(new Shape(_rows.Length), DType.I32);
        _hostPositions = new int[_rows.Length];
    }

    /// <summary>True once the step has been captured (devices with graph capture only).</summary>
    public bool IsCaptured => _graph is not null;

    /// <summary>Why the step could not be captured (it then runs eagerly), or null.</summary>
    public string? CaptureError { get; private set; }

    /// <summary>Runs one step: tokens[b] is sequence b's newest token; returns the greedy next token of each.</summary>
    public int[] Step(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length != _rows.Length) throw new ArgumentException($"decode graph: {tokens.Length} tokens for {_rows.Length} sequences");
        for (int b = 0; b < tokens.Length; b++)
            if ((uint)tokens[b] >= (uint)_model.Config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"decode graph: token {tokens[b]} outside the vocabulary");
        var batch = _cache.NextBatch(_rows, _ones);
        if (_onDevice is null || !tokens.SequenceEqual(_onDevice))
        {
            for (int b = 0; b < _rows.Length; b++) _hostPositions[b] = batch.StartPositions[b];
            _device.Write(tokens, _tokens);
            _device.Write(_hostPositions, _positions);
        }
        _onDevice = null;
        _device.PrepareBatch(batch);   // the sequence table in place: no copy when the last step advanced it to this batch

        // The first step runs eagerly: it sizes the model's scratch buffers for this batch, so the capture
        // allocates nothing (allocation and zero-fill are not capturable work).
        if (_device.Device.GraphCapture is { } capture && _steps++ > 0 && CaptureError is null)
        {
            if (_graph is null)
            {
                try
                {
                    _graph = capture.Capture(() => Body(batch));   // records only; the forward's host bookkeeping ran once
                }
                catch (CudaException e)
                {
                    // A driver that cannot capture this step (a non-capturable call in it) costs speed, not the
                    // answer: note why, undo the capture's bookkeeping and run eagerly from now on.
                    CaptureError = e.Message;
                    _cache.Rewind(batch);
                    Body(batch);
                }
            }
            else
            {
                _cache.Advance(batch);
            }
            _graph?.Launch();
        }
        else
        {
            Body(batch);
        }
        _device.AdvanceDecodeStep(_positions, batch);   // after the graph, not in it: the host notes each advance
        var ids = new int[_rows.Length];
        _model.Ops.Download(_tokens, ids);
        _onDevice = ids;
        return (int[])ids.Clone();
    }

    /// <summary>What the graph holds: the forward of one token per sequence and the argmax of its logits.</summary>
    private void Body(AttentionBatch batch)
    {
        var logits = _model.Forward(_tokens, _positions, batch, _cache, LogitsFor.AllTokens);   // [B, V]: one token each
        _model.Ops.Argmax(logits, _tokens);   // the next step's input (the embedding read this step's ids first)
    }

    public void Dispose()
    {
        _graph?.Dispose();
        _tokens.Dispose();
        _positions.Dispose();
    }
}
