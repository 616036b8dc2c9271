namespace Mistral.Kernels.Ops;

/// <summary>The host memory this process may use: physical memory, or the container's limit when there is one.</summary>
public static class HostMemory
{
    public static long TotalBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}
