using System.Diagnostics;

namespace Mistral.Kernels.Distributed;

/// <summary>
/// Bounds every wait on the other ranks: a collective runs inside <see cref="Guard"/>, and when one has not returned
/// within the timeout (a rank died without the launcher noticing, or is stuck), a timer thread calls the hang action
/// once, which reports and aborts the run. MPI and NCCL waits would otherwise block forever.
/// </summary>
internal sealed class CollectiveWatchdog : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly Action<string> _onHang;
    private readonly Timer _timer;
    private string? _waitingFor;
    private long _since;
    private int _fired;

    public CollectiveWatchdog(TimeSpan timeout, Action<string> onHang)
    {
        _timeout = timeout;
        _onHang = onHang;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 1000));
        _timer = new Timer(_ => Check(), null, period, period);
    }

    public TimeSpan Timeout => _timeout;

    /// <summary>Marks the start of a wait on the other ranks; disposing the result marks its end.</summary>
    public Scope Guard(string collective)
    {
        Volatile.Write(ref _since, Stopwatch.GetTimestamp());
        Volatile.Write(ref _waitingFor, collective);
        return new Scope(this);
    }

    private void Check()
    {
        var what = Volatile.Read(ref _waitingFor);
        if (what is null || Stopwatch.GetElapsedTime(Volatile.Read(ref _since)) < _timeout) return;
        if (Interlocked.Exchange(ref _fired, 1) != 0) return;
        _onHang($"no answer from the other ranks within {_timeout.TotalSeconds:0.#} s in {what}");
    }

    public void Dispose() => _timer.Dispose();

    public readonly struct Scope(CollectiveWatchdog owner) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref owner._waitingFor, null);
    }
}
