namespace Mistral.Kernels.Device;

/// <summary>How the emulated device builds and checks kernels.</summary>
/// <param name="CacheDirectory">Where host-compiled kernel libraries are cached (e.g. ~/.cache/mistral-cu, or a test run's folder).</param>
/// <param name="Compiler">The host C++ compiler.</param>
/// <param name="PoisonAllocations">Fill new allocations with NaN bytes, so reading memory nobody wrote shows up as NaN.</param>
/// <param name="CheckRedZones">Guard every allocation with red zones and check them after each launch, so a kernel
/// writing past either end of a buffer fails naming the kernel.</param>
/// <param name="ScheduleSeed">Seeds the order blocks run in and the order of a block's threads between barriers, as the
/// GPU promises neither; 0 runs both in index order. Each launch's order depends on this seed, the kernel and the
/// launch shape only, so runs are reproducible and a resumed run replays the same orders.</param>
/// <param name="CheckSharedRaces">Fail a launch in which two threads write the same shared-memory byte with no barrier
/// between (writes of a different value; reads are not tracked). Slow: compares shared memory at every barrier.</param>
/// <param name="ContractFma">Build the kernels with FMA contraction (<see cref="Emulation.EmulatorBuild.FmaFlags"/>), as
/// NVRTC compiles them by default, instead of one rounding per operation; needs a host CPU with FMA.</param>
/// <param name="GraphCapture">Offer graph capture (<see cref="IDevice.GraphCapture"/>), as a GPU does, so code that
/// captures and replays (the decode step) runs that path here; false: the device cannot capture, work runs eagerly.</param>
/// <param name="CountMemoryAccesses">Build the kernels with every load and store instrumented
/// (<see cref="Emulation.EmulatorBuild.CountersFlags"/>) and count shared-memory bank conflicts and global 32-byte
/// sectors per warp instruction into <see cref="EmulatedDevice.Counters"/>. Several times slower.</param>
public sealed record EmulatedDeviceOptions(
    string CacheDirectory, string Compiler = "g++", bool PoisonAllocations = true, bool CheckRedZones = true,
    ulong ScheduleSeed = EmulatedDeviceOptions.DefaultSeed, bool CheckSharedRaces = false,
    bool ContractFma = false, bool GraphCapture = true, bool CountMemoryAccesses = false)
{
    /// <summary>The seed every emulated run uses unless told otherwise.</summary>
    public const ulong DefaultSeed = 0x5EED_C0DA;
}
