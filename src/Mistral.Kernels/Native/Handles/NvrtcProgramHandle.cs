using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native.Handles;

/// <summary>An NVRTC program (nvrtcCreateProgram); needs no context.</summary>
public sealed class NvrtcProgramHandle : SafeHandle
{
    public NvrtcProgramHandle(nint program) : base(0, ownsHandle: true) => SetHandle(program);

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        nint program = handle;
        return LibNvrtc.nvrtcDestroyProgram(ref program) == NvrtcResult.NVRTC_SUCCESS;
    }
}
