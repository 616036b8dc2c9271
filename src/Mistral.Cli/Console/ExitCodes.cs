namespace Mistral.Cli.Console;

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>A check ran and failed (parity mismatch, selftest failure).</summary>
    public const int CheckFailed = 1;
    /// <summary>Bad input: missing or corrupt file, bad option, no such device.</summary>
    public const int BadInput = 2;
    /// <summary>Data-parallel runs: another rank failed or stopped answering, so this one aborted the run.</summary>
    public const int RankFailed = 3;
}
