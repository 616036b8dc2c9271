namespace Mistral.Runtime.Devices;

/// <summary>A size asked for (from a config, a file or an option) that the device cannot hold; says both sizes.</summary>
public sealed class MemoryBudgetException(string what, double neededBytes, long availableBytes, string device)
    : Exception($"{what} needs {MemoryBudget.Format(neededBytes)}, more than the {MemoryBudget.Format(availableBytes)} {device} has")
{
    public double NeededBytes { get; } = neededBytes;
    public long AvailableBytes { get; } = availableBytes;
}
