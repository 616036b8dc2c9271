namespace Mistral.Kernels.Ops.Cuda;

/// <summary>The device could not hold an allocation: says how much was asked for and what the process already holds.</summary>
public sealed class DeviceOutOfMemoryException(long requestedBytes, long heldBytes, long totalBytes, Exception inner)
    : Exception(Describe(requestedBytes, heldBytes, totalBytes), inner)
{
    public long RequestedBytes { get; } = requestedBytes;
    public long HeldBytes { get; } = heldBytes;
    public long TotalBytes { get; } = totalBytes;

    private static string Describe(long requested, long held, long total) =>
        $"out of device memory: asked for {Mib(requested)} while this process holds {Mib(held)}" +
        (total > 0 ? $" of the device's {Mib(total)} (free: at most {Mib(Math.Max(0, total - held))})" : "") +
        "; use a shorter context, a smaller batch, or --precision bf16";

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB ({bytes} bytes)";
}
