namespace Mistral.Runtime.Parity;

public enum ParityStatus
{
    Pass,
    Fail,
    /// <summary>The case's kind is not supported by this build (or this device); the detail says why.</summary>
    Skip,
}
