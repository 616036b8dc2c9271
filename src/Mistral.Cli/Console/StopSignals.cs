using System.Runtime.InteropServices;

namespace Mistral.Cli.Console;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM while a training verb runs: instead of ending the process they cancel
/// <see cref="Token"/>, so the trainer stops between steps, not mid-write, and writes a checkpoint to resume from.
/// <see cref="StoppedExitCode"/> is what the verb then exits with: 130 or 143 (128 + the signal), as shells and
/// schedulers expect of a process a signal stopped.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int? _exitCode;

    public StopSignals()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Stop(c, ExitCodes.Interrupted));
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Stop(c, ExitCodes.Terminated));
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>128 + the signal received; SIGTERM's when none reached this process (a data-parallel rank stopped because another was).</summary>
    public int StoppedExitCode => _exitCode ?? ExitCodes.Terminated;

    private void Stop(PosixSignalContext context, int code)
    {
        context.Cancel = true;
        _exitCode = code;
        _cancel.Cancel();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _cancel.Dispose();
    }
}
