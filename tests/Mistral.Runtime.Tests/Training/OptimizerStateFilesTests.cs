using Mistral.Runtime.Training;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>A checkpoint's optimizer state is complete with the single ZeRO-0 file or every ZeRO-1 shard of one world size.</summary>
public sealed class OptimizerStateFilesTests
{
    [Theory]
    [InlineData(new[] { "optimizer.safetensors" }, null)]
    [InlineData(new[] { "optimizer.rank0-of-2.safetensors", "optimizer.rank1-of-2.safetensors" }, null)]
    [InlineData(new[] { "optimizer.rank0-of-2.safetensors" }, "optimizer.rank1-of-2.safetensors is missing (1 of 2 optimizer shards)")]
    [InlineData(new[] { "optimizer.rank0-of-1.safetensors", "optimizer.rank1-of-2.safetensors" }, "optimizer shards of different world sizes")]
    [InlineData(new[] { "lora.safetensors" }, "no optimizer.safetensors nor optimizer.rank*-of-*.safetensors")]
    public void Missing_Layouts_NullOnlyWhenComplete(string[] files, string? expected)
    {
        Assert.Equal(expected, OptimizerStateFiles.Missing(files));
    }
}
