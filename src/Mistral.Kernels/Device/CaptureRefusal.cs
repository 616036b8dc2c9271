using Mistral.Kernels.Native;

namespace Mistral.Kernels.Device;

/// <summary>
/// The error for work that CUDA refuses while a stream is being captured into a graph (or that would make the graph
/// wrong), as both devices raise it: the driver's status, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, and the operation
/// by name, so a capture that fails says which call broke it.
/// </summary>
internal static class CaptureRefusal
{
    public static CudaException For(string operation, string why) =>
        new("cuda", nameof(CuResult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED), (int)CuResult.CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
            $"{operation} during graph capture ({why})");

    /// <summary>The capture was invalidated by an earlier refused call that the captured code caught and went on from.</summary>
    public static CudaException Invalidated(string firstRefusal) =>
        new("cuda", nameof(CuResult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED), (int)CuResult.CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
            $"ending graph capture after {firstRefusal}");
}
