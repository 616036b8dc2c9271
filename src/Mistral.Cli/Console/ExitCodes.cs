namespace Mistral.Cli.Console;

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>A check ran and failed (parity mismatch, selftest failure).</summary>
    public const int CheckFailed = 1;
    /// <summary>Bad input: missing or corrupt file, bad option, no such device; also a command line that does not parse.</summary>
    public const int BadInput = 2;
    /// <summary>Data-parallel runs: another rank failed or stopped answering, so this one aborted the run.</summary>
    public const int RankFailed = 3;
    /// <summary>Stopped by SIGINT (Ctrl+C) after finishing the step and writing a checkpoint: 128 + 2, as shells expect.</summary>
    public const int Interrupted = 130;
    /// <summary>Stopped by SIGTERM (docker stop, a scheduler) after finishing the step and writing a checkpoint: 128 + 15.</summary>
    public const int Terminated = 143;
}
