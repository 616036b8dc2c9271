using Mistral.Kernels.Ops;

namespace Mistral.Runtime.Devices;

/// <summary>
/// The memory check made before a large allocation whose size comes from a file or an option (a model's weights, a
/// KV cache, a training step's activations): a size the ops cannot hold is refused at once, naming both sizes, instead
/// of ending minutes later in an out-of-memory error. Sizes are doubles so a hostile product cannot overflow.
/// </summary>
public static class MemoryBudget
{
    public static void Require(IOps ops, string what, double bytes)
    {
        long available = ops.AvailableMemoryBytes;
        if (available > 0 && bytes > available)
            throw new MemoryBudgetException(what, bytes, available, ops.Name);
    }

    /// <summary>A byte count as people read it: "3.2 GiB".</summary>
    public static string Format(double bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        int u = 0;
        while (bytes >= 1024 && u < units.Length - 1) { bytes /= 1024; u++; }
        return u == 0 ? $"{bytes:F0} bytes" : bytes >= 1e4 ? $"{bytes:E2} {units[u]}" : $"{bytes:F1} {units[u]}";
    }
}
