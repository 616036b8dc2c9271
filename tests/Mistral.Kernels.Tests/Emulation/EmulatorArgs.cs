using Mistral.Kernels.Device;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>Kernel arguments for the emulator tests' hand-written kernels: device pointers (ulong) and ints.</summary>
public static class EmulatorArgs
{
    public static KernelArgs Of(params object[] values)
    {
        var args = new KernelArgs();
        foreach (var v in values)
        {
            if (v is ulong p) args.Add(p);
            else args.Add((int)v);
        }
        return args;
    }
}
