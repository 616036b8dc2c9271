namespace Mistral.Kernels.Device;

/// <summary>The argument check every <see cref="IDevice"/> copy makes before moving anything, one copy for every device.</summary>
internal static class CopyChecks
{
    public static void SameLength(long sourceLength, long destinationLength)
    {
        if (sourceLength != destinationLength)
            throw new ArgumentException($"copy of {sourceLength} elements into a span of {destinationLength}");
    }
}
