namespace Mistral.Kernels.Compile;

/// <summary>NVRTC rejected a kernel file. The message carries the log with lines as `file:line: message`.</summary>
public sealed class CudaCompileException(string file, string target, string log)
    : Exception($"NVRTC could not compile kernels/cu/{file} for {target}:\n{log}")
{
    public string File { get; } = file;
    public string Target { get; } = target;
    public string Log { get; } = log;
}
