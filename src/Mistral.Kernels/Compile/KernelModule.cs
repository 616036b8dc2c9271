using Mistral.Kernels.Native;
using Mistral.Kernels.Native.Handles;

namespace Mistral.Kernels.Compile;

/// <summary>One compiled kernel file loaded into a context (cuModuleLoadData), with its functions looked up by extern "C" name.</summary>
public sealed unsafe class KernelModule : IDisposable
{
    private readonly CuModuleHandle _module;
    private readonly Dictionary<string, nint> _functions = new(StringComparer.Ordinal);

    public KernelModule(CuContextHandle context, CompiledKernel compiled)
    {
        File = compiled.File;
        context.MakeCurrent();
        nint raw;
        fixed (byte* image = compiled.Image) CudaException.Check(LibCuda.cuModuleLoadData(out raw, image), $"cuModuleLoadData({compiled.File}, {compiled.Target})");
        _module = new CuModuleHandle(context, raw);
    }

    public string File { get; }

    /// <summary>The CUfunction of an extern "C" kernel of this file.</summary>
    public nint Function(string name)
    {
        if (_functions.TryGetValue(name, out var function)) return function;
        CudaException.Check(LibCuda.cuModuleGetFunction(out function, _module.DangerousGetHandle(), name), $"cuModuleGetFunction({File}, {name})");
        _functions[name] = function;
        return function;
    }

    public void Dispose() => _module.Dispose();
}
