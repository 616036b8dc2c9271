namespace Mistral.Cli.Console;

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>A check ran and failed (parity mismatch, selftest failure).</summary>
    public const int CheckFailed = 1;
    /// <summary>Bad input: missing or corrupt file, bad option, no such device.</summary>
    public const int BadInput = 2;
}
