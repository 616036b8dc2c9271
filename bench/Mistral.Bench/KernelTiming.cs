using Mistral.Kernels.Device;
using Mistral.Kernels.Native;

namespace Mistral.Bench;

/// <summary>
/// Times one kernel so that the figure is the kernel's, not the L2 cache's or the launch path's. Each sample first
/// evicts L2 (a memset of <see cref="KernelBenchOptions.FlushBytes"/>, outside the timed region), then times one pass
/// that calls the kernel once on each copy of its operands: every call reads operands no earlier call of the sample
/// touched, so HBM rates are HBM rates. Decode-shaped calls (T = 1, a few µs each) are captured into a graph once and
/// each sample replays it, so the host's launch path (argument packing, the driver call) is not timed; a device with
/// no graph capture (an emulator opened without it) or a capture the driver refuses runs the same calls eagerly, and
/// says so.
/// </summary>
public sealed class KernelTiming(IDevice device, KernelBenchOptions options) : IDisposable
{
    private readonly DeviceBuffer _flush = device.Allocate(options.FlushBytes);

    /// <summary>Why the last graph could not be captured, or null.</summary>
    public string? CaptureError { get; private set; }

    /// <summary>Copies of a call's operands (<paramref name="bytes"/> each) that together reach <see cref="KernelBenchOptions.RotateBytes"/>.</summary>
    public int CopiesFor(double bytes) =>
        (int)Math.Clamp(Math.Ceiling(options.RotateBytes / Math.Max(bytes, 1)), 1, options.MaxCopies);

    /// <summary>
    /// Median milliseconds of one call, each sample running <paramref name="calls"/> (one per operand copy) once after
    /// an L2 flush; <paramref name="graph"/> replays them as one captured graph. Returns how the calls ran, for the row.
    /// </summary>
    public (double Milliseconds, string How) Time(IReadOnlyList<Action> calls, bool graph)
    {
        void Pass()
        {
            foreach (var call in calls) call();
        }
        CaptureError = null;
        string how = $"launches ×{calls.Count}";
        Action body = Pass;
        IDeviceGraph? captured = null;
        if (graph)
        {
            Pass();   // eager first: it sizes the ops' scratch buffers, so the capture allocates nothing
            device.Synchronize();
            (captured, how) = Capture(Pass, calls.Count);
            if (captured is not null) body = captured.Launch;
        }
        try
        {
            double ms = DeviceTimer.MedianMs(device, body, options.Warmup, options.Repetitions, beforeEach: Flush);
            return (ms / calls.Count, how);
        }
        finally
        {
            captured?.Dispose();
        }
    }

    private (IDeviceGraph? Graph, string How) Capture(Action pass, int count)
    {
        if (device.GraphCapture is not { } capture) return (null, $"(no graph) ×{count}");
        try
        {
            return (capture.Capture(pass), $"graph ×{count}");
        }
        catch (Exception e) when (e is CudaException or InvalidOperationException)
        {
            // A step the driver cannot capture still has a speed: time it eagerly and say why in a note.
            CaptureError = e.Message;
            return (null, $"(no graph: capture failed) ×{count}");
        }
    }

    private void Flush() => device.Memset(_flush.AsSpan<byte>(), 0);

    public void Dispose() => _flush.Dispose();
}
