namespace Mistral.Kernels.Compile;

/// <summary>The output of compiling one kernel file: PTX text (NUL-terminated) or a CUBIN, ready for cuModuleLoadData.</summary>
public sealed record CompiledKernel(string File, CompileTarget Target, byte[] Image, string Log);
