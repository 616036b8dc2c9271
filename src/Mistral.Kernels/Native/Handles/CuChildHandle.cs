using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native.Handles;

/// <summary>
/// A driver object that lives in a context. It holds a reference on its context, so the context outlives it, and
/// makes that context current before destroying the object: ReleaseHandle may run on the finalizer thread.
/// </summary>
public abstract class CuChildHandle : SafeHandle
{
    private readonly CuContextHandle _context;

    protected CuChildHandle(CuContextHandle context, nint value) : base(0, ownsHandle: true)
    {
        bool added = false;
        context.DangerousAddRef(ref added);
        _context = context;
        SetHandle(value);
    }

    public override bool IsInvalid => handle == 0;

    protected sealed override bool ReleaseHandle()
    {
        try
        {
            return LibCuda.cuCtxSetCurrent(_context.DangerousGetHandle()) == CuResult.CUDA_SUCCESS && Destroy(handle);
        }
        finally
        {
            _context.DangerousRelease();
        }
    }

    /// <summary>Destroys the native object; the owning context is current.</summary>
    protected abstract bool Destroy(nint value);
}
