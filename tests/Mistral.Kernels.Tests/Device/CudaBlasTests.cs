using Mistral.Kernels.Device;
using Xunit;

namespace Mistral.Kernels.Tests.Device;

/// <summary>The parts of the cuBLAS wrapper that need no GPU: the version string and the workspace size.</summary>
public sealed class CudaBlasTests
{
    [Theory]
    [InlineData(120405, "12.4.5")]   // CUBLAS_VERSION of cuBLAS 12.4.5.8
    [InlineData(130001, "13.0.1")]
    [InlineData(111103, "11.11.3")]
    public void FormatVersion_CublasInteger_MajorMinorPatch(int version, string expected) =>
        Assert.Equal(expected, CudaBlas.FormatVersion(version));

    [Theory]
    [InlineData(90, 32L << 20)]
    [InlineData(80, 4L << 20)]
    public void WorkspaceFor_Architecture_CublasRecommendation(int computeCapability, long bytes) =>
        Assert.Equal(bytes, CudaBlas.WorkspaceFor(computeCapability));
}
